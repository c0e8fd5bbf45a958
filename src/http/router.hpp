#pragma once
// Full-path regex routing on RE2 (spec/http.md §2): registration order, automatic HEAD
// for GET, 404 vs 405 with the allowed methods.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace re2 {
class RE2;
}

namespace tomodachi::http_impl {

/// The regex of a route as upstream builds it: one leading `^` and one trailing `$`
/// removed (the whole path must match).
std::string strip_route_anchors(std::string_view url);

/// Compiled routes. Not thread-safe for mutation; matching is const.
class Router {
 public:
  enum class Outcome { found, not_found, method_not_allowed };

  /// Groups of one match as views into the matched path; a group that did not
  /// participate has a null data().
  struct Match {
    Outcome outcome = Outcome::not_found;
    std::size_t route = 0;                 ///< index given to add()
    std::vector<std::string_view> groups;  ///< by group number (0 = whole match)
    std::string allow;                     ///< for 405: `GET,HEAD,POST` (as aiohttp)
  };

  Router();
  ~Router();
  Router(Router&&) noexcept;
  Router& operator=(Router&&) noexcept;

  /// Adds a route answering `methods` (upper-cased; GET implies HEAD) on `url`.
  /// Throws ArgumentError("Bad http route pattern '<url>': <error>").
  void add(std::vector<std::string> methods, std::string_view url, std::size_t route);

  /// Resolves `method` + `path` (percent-decoded). `match` is reused across calls
  /// to avoid allocations.
  void resolve(std::string_view method, std::string_view path, Match& match) const;

  /// Group number of `name` in `route`, or -1.
  int group_index(std::size_t route, std::string_view name) const;

  std::size_t size() const noexcept { return entries_.size(); }

 private:
  struct Entry;
  std::vector<std::unique_ptr<Entry>> entries_;
};

}  // namespace tomodachi::http_impl
