// Non-template public API of the HTTP transport and its registration with the runtime.

#include "http/server.hpp"

#include <tomodachi/http.hpp>
#include <tomodachi/json.hpp>

#include <filesystem>

namespace tomodachi {

Response Response::json(const boost::json::value& value, int status_code) {
  Response response(tomodachi::json::dumps(value));
  response.status = status_code;
  response.content_type = "application/json";
  response.charset = "utf-8";
  return response;
}

HttpError::HttpError(int status, Headers headers, std::string body)
    : Error("HTTP " + std::to_string(status)),
      status_(status),
      headers_(std::move(headers)),
      body_(std::move(body)) {}

namespace detail {

void add_http_spec(Service& service, std::unique_ptr<HttpSpec> spec) {
  service.add_handler(std::move(spec));
}

std::string resolve_static_path(std::string_view path, const std::source_location& where) {
  if (path.empty() || path == "/") {
    throw ArgumentError("Invalid path '" + std::string(path) + "' for static route");
  }
  std::filesystem::path value(path);
  if (value.is_relative()) {
    std::filesystem::path source(where.file_name());
    if (source.is_relative()) source = std::filesystem::current_path() / source;
    value = source.parent_path() / value;
  }
  return value.lexically_normal().string();
}

}  // namespace detail

void Service::http_static(std::string_view path, std::string_view url, std::source_location where) {
  http_static(path, url, HttpStaticOptions{}, where);
}

void Service::http_static(std::string_view path, std::string_view url,
                          const HttpStaticOptions& options, std::source_location where) {
  detail::HttpStaticSpec spec{
      std::string(url), detail::resolve_static_path(path, where), std::string(path),
      detail::HttpLogging{options.ignore_logging, options.ignore_logging_statuses}};
  detail::add_http_spec(*this, std::make_unique<detail::HttpSpec>("static", std::move(spec)));
}

void Service::http_middleware(std::function<Task<Response>(HttpNext&, Request&)> middleware,
                              std::string name) {
  detail::add_http_spec(
      *this, std::make_unique<detail::HttpSpec>(std::move(name),
                                                detail::HttpMiddlewareSpec{std::move(middleware)}));
}

namespace {
const bool http_transport_registered = [] {
  register_transport<detail::HttpSpec>(&http_impl::make_http_transport);
  return true;
}();
}  // namespace

}  // namespace tomodachi
