// tomodachi::Request: cheap views into the request state the pipeline filled in.

#include "http/http_util.hpp"
#include "http/request_state.hpp"
#include "http/session.hpp"

#include <tomodachi/http.hpp>

#include <boost/json/parse.hpp>

#include <algorithm>
#include <cctype>

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

namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

/// A cookie value as Python's SimpleCookie reads it: surrounding double quotes removed,
/// `\"`, `\\` and `\ooo` (octal) escapes inside them decoded.
std::string unquote_cookie(std::string_view value) {
  if (value.size() < 2 || value.front() != '"' || value.back() != '"') return std::string(value);
  value = value.substr(1, value.size() - 2);
  std::string out;
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (value[i] != '\\' || i + 1 >= value.size()) {
      out += value[i];
      continue;
    }
    auto is_octal = [](char c) { return c >= '0' && c <= '7'; };
    if (i + 3 < value.size() && is_octal(value[i + 1]) && is_octal(value[i + 2]) &&
        is_octal(value[i + 3])) {
      out += static_cast<char>((value[i + 1] - '0') * 64 + (value[i + 2] - '0') * 8 +
                               (value[i + 3] - '0'));
      i += 3;
    } else {
      out += value[++i];
    }
  }
  return out;
}

/// The `charset` parameter of a Content-Type, lower-cased ("" when absent).
std::string content_charset(std::string_view content_type) {
  std::string lower(content_type);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  auto at = lower.find("charset=");
  if (at == std::string::npos) return {};
  std::string_view value = std::string_view(lower).substr(at + 8);
  value = value.substr(0, value.find(';'));
  value = trim(value);
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
    value = value.substr(1, value.size() - 2);
  return std::string(value);
}

}  // namespace

std::optional<std::string> Request::query(std::string_view name) const {
  auto value = query().get(name);
  if (!value) return std::nullopt;
  return std::string(*value);
}

const QueryMap& Request::query() const {
  if (!state_->query_map) {
    // The query is parsed as an urlencoded form is (`+` and `%xx` decoded, empty pairs
    // skipped), as yarl and multidict do.
    std::vector<QueryMap::Item> items;
    auto fields = http_impl::parse_form("application/x-www-form-urlencoded", state_->query);
    if (fields) {
      for (auto& field : *fields) items.emplace_back(std::move(field.name), std::move(field.value));
    }
    state_->query_map.emplace(std::move(items));
  }
  return *state_->query_map;
}

const std::map<std::string, std::string>& Request::cookies() const {
  if (!state_->cookies) {
    std::map<std::string, std::string> cookies;
    if (state_->message) {
      auto [it, last] = state_->message->equal_range(boost::beast::http::field::cookie);
      for (; it != last; ++it) {
        const auto& field = *it;
        std::string_view rest(field.value().data(), field.value().size());
        while (!rest.empty()) {
          auto semicolon = rest.find(';');
          std::string_view item = trim(rest.substr(0, semicolon));
          rest =
              semicolon == std::string_view::npos ? std::string_view() : rest.substr(semicolon + 1);
          auto eq = item.find('=');
          if (eq == std::string_view::npos) continue;  // a bare attribute: no cookie
          std::string_view name = trim(item.substr(0, eq));
          if (name.empty() || name.front() == '$') continue;  // $Version, $Path, ...
          cookies[std::string(name)] = unquote_cookie(trim(item.substr(eq + 1)));
        }
      }
    }
    state_->cookies.emplace(std::move(cookies));
  }
  return *state_->cookies;
}

std::string Request::text() const {
  std::string charset = content_charset(header("Content-Type").value_or(""));
  std::string_view raw = body();
  if (charset == "latin-1" || charset == "latin1" || charset == "iso-8859-1" ||
      charset == "iso8859-1" || charset == "l1") {
    std::string out;
    out.reserve(raw.size());
    for (unsigned char c : raw) {
      if (c < 0x80) {
        out += static_cast<char>(c);
      } else {
        out += static_cast<char>(0xC0 | (c >> 6));
        out += static_cast<char>(0x80 | (c & 0x3F));
      }
    }
    return out;
  }
  return std::string(raw);
}

boost::json::value Request::json() const {
  boost::system::error_code error;
  boost::json::value value = boost::json::parse(text(), error);
  if (error) throw HttpError(400, {}, "invalid JSON body: " + error.message());
  return value;
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
