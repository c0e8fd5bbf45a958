// The service of tests/e2e/http_corpus_test.py: one catch-all route for the common methods
// whose answer names the method, path and body length that reached the handler, so a
// smuggled request that gets through the framing is visible in the reply. Options come
// from environment variables so one build serves keep-alive on and off.
#include <tomodachi/tomodachi.hpp>

#include <cstdlib>
#include <optional>
#include <string>

namespace {
std::optional<std::string> env(const char* name) {
  const char* value = std::getenv(name);
  if (!value || !*value) return std::nullopt;
  return std::string(value);
}
}  // namespace

class HttpCorpusService : public tomodachi::Service {
 public:
  HttpCorpusService() : Service("http_corpus") {
    options.http.port = 0;  // random port, reported in `accepting http requests`
    options.http.host = "127.0.0.1";
    options.http.access_log = false;
    if (auto value = env("HTTP_CORPUS_KEEPALIVE_TIMEOUT"))
      options.http.keepalive_timeout = std::stoi(*value);
    if (auto value = env("HTTP_CORPUS_CLIENT_MAX_SIZE")) options.http.client_max_size = *value;
    if (auto value = env("HTTP_CORPUS_BODY_TIMEOUT"))
      options.http.body_read_timeout = std::stoi(*value);
    http<&HttpCorpusService::ran>({"GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"}, "/.*");
  }

  tomodachi::Task<tomodachi::Response> ran(tomodachi::Request& request) {
    co_return tomodachi::Response(200, "ran " + std::string(request.method()) + " " +
                                           std::string(request.path()) + " " +
                                           std::to_string(request.body().size()));
  }
};

TOMODACHI_SERVICE(HttpCorpusService);
