#pragma once
// What one request carries through the pipeline (behind tomodachi::Request), and the
// routes it resolves to. No socket: the pipeline tests build these by hand.

#include "http/router.hpp"

#include <tomodachi/http.hpp>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/object.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tomodachi::http_impl {

/// A parsed request (head and, once read, body).
using RequestMessage = boost::beast::http::request<boost::beast::http::string_body>;

class Connection;

enum class RouteKind { handler, static_files, websocket };

/// One routing-table entry: the registration behind it, resolved once at set-up.
struct Route {
  const detail::HttpSpec* spec = nullptr;
  RouteKind kind = RouteKind::handler;
  const detail::HttpRouteSpec* handler = nullptr;        ///< kind == handler
  const detail::HttpWebsocketSpec* websocket = nullptr;  ///< kind == websocket
  const detail::HttpLogging* logging = nullptr;          ///< handler and static routes
  std::string static_base;  ///< static: real path of the directory, with trailing '/'
  int filename_group = -1;  ///< static: the `filename` group of the pattern
};

}  // namespace tomodachi::http_impl

namespace tomodachi::detail {

struct RequestState {
  const http_impl::Router* router = nullptr;    ///< for Request::match
  http_impl::Connection* connection = nullptr;  ///< null when no socket (pipeline tests)
  const http_impl::RequestMessage* message = nullptr;
  std::string_view method;
  std::string_view target;
  std::string_view query;
  std::string_view version = "HTTP/1.1";
  std::string path;
  std::string remote_ip;
  std::string auth_user;
  const http_impl::Route* route = nullptr;
  http_impl::Router::Match match;
  std::optional<int> status_code;
  const HttpSpec* error_spec = nullptr;
  std::string websocket_id;
  boost::json::object context;
  Websocket* websocket = nullptr;
  std::optional<WebsocketCallbacks> websocket_callbacks;
  std::optional<std::vector<FormField>> form;
  std::optional<QueryMap> query_map;                          ///< Request::query(), cached
  std::optional<std::map<std::string, std::string>> cookies;  ///< Request::cookies(), cached

  void reset() {
    form.reset();
    query_map.reset();
    cookies.reset();
    message = nullptr;
    method = target = query = {};
    version = "HTTP/1.1";
    path.clear();
    remote_ip.clear();
    auth_user.clear();
    route = nullptr;
    status_code.reset();
    error_spec = nullptr;
    websocket_id.clear();
    if (!context.empty()) context.clear();
    websocket = nullptr;
    websocket_callbacks.reset();
  }

  /// The handler fields of every record a handler logs (upstream's bound handler context).
  LogFields handler_fields() const;
};

}  // namespace tomodachi::detail
