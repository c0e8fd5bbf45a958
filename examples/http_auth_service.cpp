// Authentication with a guard: `tomodachi run examples/http_auth_service.cpp`
//   curl -i http://localhost:9700/public                        → 200
//   curl -i http://localhost:9700/private                       → 401 + WWW-Authenticate
//   curl -i -u admin:secret http://localhost:9700/private       → 200 "hello admin"
//   curl -i -H 'Authorization: Bearer let-me-in' http://localhost:9700/private → 200
// The access log shows `auth_user` for Basic credentials.
#include <tomodachi/tomodachi.hpp>

#include <cstdlib>

class AuthExample : public tomodachi::Service {
 public:
  AuthExample() : Service("http-auth-example") {
    http<&AuthExample::public_page>("GET", "/public");
    http<&AuthExample::private_page, &AuthExample::require_login>("GET", "/private");
    http<&AuthExample::private_page, &AuthExample::require_login>("POST", "/private");
  }

  // The guard: lets the request through (std::nullopt) or answers 401 itself.
  tomodachi::Task<std::optional<tomodachi::Response>> require_login(tomodachi::Request& request) {
    const char* token = std::getenv("AUTH_EXAMPLE_TOKEN");
    const std::string expected_token = std::string("Bearer ") + (token ? token : "let-me-in");
    if (request.header("Authorization") == std::string_view(expected_token)) {
      request.context()["user"] = "token-user";
      co_return std::nullopt;
    }
    // Basic credentials: the user name was already decoded by the transport.
    if (request.auth_user() == "admin" &&
        request.header("Authorization") == "Basic YWRtaW46c2VjcmV0") {
      request.context()["user"] = "admin";
      co_return std::nullopt;
    }
    co_return tomodachi::Response{
        401, "authentication required", {{"WWW-Authenticate", R"(Basic realm="example")"}}};
  }

  tomodachi::Task<tomodachi::Response> public_page(tomodachi::Request&) {
    co_return "anyone may read this";
  }

  tomodachi::Task<tomodachi::Response> private_page(tomodachi::Request& request) {
    co_return "hello " + std::string(request.context().at("user").as_string());
  }
};

TOMODACHI_SERVICE(AuthExample);
