// tomodachi::Request: cheap views into the request state the pipeline filled in.

#include "http/http_util.hpp"
#include "http/request_state.hpp"
#include "http/session.hpp"

#include <tomodachi/http.hpp>

#include <algorithm>

namespace tomodachi {

namespace detail {

LogFields RequestState::handler_fields() const {
  if (status_code && error_spec) {
    return {{"handler", boost::json::string(error_spec->name)},
            {"type", "tomodachi.http_error"},
            {"status_code", *status_code}};
  }
  if (route) {
    const bool is_websocket = route->kind == http_impl::RouteKind::websocket;
    return {{"handler", boost::json::string(route->spec->name)},
            {"type", is_websocket ? "tomodachi.websocket" : "tomodachi.http"}};
  }
  return {};
}

}  // namespace detail

std::string_view Request::method() const noexcept { return state_->method; }
std::string_view Request::path() const noexcept { return state_->path; }
std::string_view Request::target() const noexcept { return state_->target; }
std::string_view Request::query_string() const noexcept { return state_->query; }
std::string_view Request::http_version() const noexcept { return state_->version; }
std::string_view Request::body() const noexcept {
  return state_->message ? std::string_view(state_->message->body()) : std::string_view();
}
std::string_view Request::remote_ip() const noexcept { return state_->remote_ip; }
std::string_view Request::auth_user() const noexcept { return state_->auth_user; }
std::optional<int> Request::status_code() const noexcept { return state_->status_code; }
std::string_view Request::websocket_id() const noexcept { return state_->websocket_id; }
boost::json::object& Request::context() noexcept { return state_->context; }

std::optional<std::string> Request::query(std::string_view name) const {
  std::string_view rest = state_->query;
  while (!rest.empty()) {
    auto amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    auto eq = pair.find('=');
    std::string key(pair.substr(0, eq));
    std::replace(key.begin(), key.end(), '+', ' ');
    if (http_impl::percent_decode(key) != name) continue;
    std::string value(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
    std::replace(value.begin(), value.end(), '+', ' ');
    return http_impl::percent_decode(value);
  }
  return std::nullopt;
}

const std::vector<FormField>& Request::form() const {
  if (!state_->form) {
    auto content_type = header("Content-Type");
    auto parsed = http_impl::parse_form(content_type.value_or(""), body());
    if (!parsed) throw HttpError(400, {}, "malformed multipart body");
    state_->form = std::move(*parsed);
  }
  return *state_->form;
}

const FormField* Request::form_field(std::string_view name) const {
  for (const auto& field : form()) {
    if (field.name == name) return &field;
  }
  return nullptr;
}

std::optional<std::string_view> Request::header(std::string_view name) const noexcept {
  if (!state_->message) return std::nullopt;
  auto it = state_->message->find(boost::beast::string_view(name.data(), name.size()));
  if (it == state_->message->end()) return std::nullopt;
  return std::string_view(it->value().data(), it->value().size());
}

std::vector<std::pair<std::string_view, std::string_view>> Request::headers() const {
  std::vector<std::pair<std::string_view, std::string_view>> out;
  if (!state_->message) return out;
  for (const auto& field : *state_->message) {
    out.emplace_back(std::string_view(field.name_string().data(), field.name_string().size()),
                     std::string_view(field.value().data(), field.value().size()));
  }
  return out;
}

namespace {
/// The group `name` of the matched route, or nullptr.
const std::string_view* matched_group(const detail::RequestState& state,
                                      std::string_view name) noexcept {
  if (!state.route || !state.router || state.match.outcome != http_impl::Router::Outcome::found)
    return nullptr;
  int index = state.router->group_index(state.match.route, name);
  if (index < 0 || static_cast<std::size_t>(index) >= state.match.groups.size()) return nullptr;
  return &state.match.groups[static_cast<std::size_t>(index)];
}
}  // namespace

std::string_view Request::match(std::string_view name) const noexcept {
  const std::string_view* group = matched_group(*state_, name);
  return group ? *group : std::string_view();
}

bool Request::matched(std::string_view name) const noexcept {
  const std::string_view* group = matched_group(*state_, name);
  return group && group->data() != nullptr;
}

bool Request::is_connected() const noexcept {
  if (!state_->connection) return false;
  if (state_->connection->upgraded) return state_->websocket && !state_->websocket->closed();
  return state_->connection->peer_connected();
}

Logger Request::logger() const {
  return Logger("tomodachi.http.handler", state_->handler_fields());
}

int get_http_response_status(const Response& value, const Request* request) {
  if (request && !request->is_connected()) return 499;
  return value.status ? value.status : 200;
}

int get_http_response_status(std::exception_ptr error, const Request* request) {
  if (request && !request->is_connected()) return 499;
  if (!error) return 200;
  try {
    std::rethrow_exception(error);
  } catch (const HttpError& http_error) {
    return http_error.status();
  } catch (...) {
    return 500;
  }
}

}  // namespace tomodachi
