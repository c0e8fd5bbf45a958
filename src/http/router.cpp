#include "http/router.hpp"

#include <tomodachi/error.hpp>

#include <re2/re2.h>

#include <algorithm>
#include <cctype>
#include <set>

namespace tomodachi::http_impl {

struct Router::Entry {
  std::vector<std::string> methods;
  std::unique_ptr<re2::RE2> regex;
  std::size_t route = 0;
  int groups = 0;
  std::vector<std::pair<std::string, int>> names;  // named groups, scanned without allocating

  bool accepts(std::string_view method) const {
    return std::find(methods.begin(), methods.end(), method) != methods.end();
  }
};

std::string strip_route_anchors(std::string_view url) {
  if (!url.empty() && url.front() == '^') url.remove_prefix(1);
  if (!url.empty() && url.back() == '$') url.remove_suffix(1);
  return std::string(url);
}

Router::Router() = default;
Router::~Router() = default;
Router::Router(Router&&) noexcept = default;
Router& Router::operator=(Router&&) noexcept = default;

void Router::add(std::vector<std::string> methods, std::string_view url, std::size_t route) {
  auto entry = std::make_unique<Entry>();
  for (auto& method : methods) {
    std::transform(method.begin(), method.end(), method.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  }
  if (std::find(methods.begin(), methods.end(), "GET") != methods.end() &&
      std::find(methods.begin(), methods.end(), "HEAD") == methods.end()) {
    methods.emplace_back("HEAD");
  }
  entry->methods = std::move(methods);
  re2::RE2::Options options;
  options.set_log_errors(false);
  entry->regex = std::make_unique<re2::RE2>(strip_route_anchors(url), options);
  if (!entry->regex->ok()) {
    throw ArgumentError("Bad http route pattern '" + std::string(url) +
                        "': " + entry->regex->error());
  }
  entry->route = route;
  entry->groups = entry->regex->NumberOfCapturingGroups();
  for (const auto& [name, index] : entry->regex->NamedCapturingGroups())
    entry->names.emplace_back(name, index);
  entries_.push_back(std::move(entry));
}

void Router::resolve(std::string_view method, std::string_view path, Match& match) const {
  match.outcome = Outcome::not_found;
  match.allow.clear();
  std::set<std::string_view> allowed;
  re2::StringPiece pieces[16];
  for (const auto& entry : entries_) {
    const int count = entry->groups + 1;
    std::vector<re2::StringPiece> heap_pieces;
    re2::StringPiece* out = pieces;
    if (count > 16) {
      heap_pieces.resize(static_cast<std::size_t>(count));
      out = heap_pieces.data();
    }
    if (!entry->regex->Match(re2::StringPiece(path.data(), path.size()), 0, path.size(),
                             re2::RE2::ANCHOR_BOTH, out, count)) {
      continue;
    }
    if (!entry->accepts(method)) {
      allowed.insert(entry->methods.begin(), entry->methods.end());
      continue;
    }
    match.outcome = Outcome::found;
    match.route = entry->route;
    match.groups.resize(static_cast<std::size_t>(count));
    for (int i = 0; i < count; ++i) {
      match.groups[static_cast<std::size_t>(i)] =
          out[i].data() ? std::string_view(out[i].data(), out[i].size()) : std::string_view();
    }
    return;
  }
  if (!allowed.empty()) {
    match.outcome = Outcome::method_not_allowed;
    for (auto name : allowed) {
      if (!match.allow.empty()) match.allow += ",";  // aiohttp joins with "," alone
      match.allow += name;
    }
  }
}

int Router::group_index(std::size_t route, std::string_view name) const {
  const Entry* found = nullptr;
  if (route < entries_.size() && entries_[route]->route == route) {
    found = entries_[route].get();
  } else {
    for (const auto& entry : entries_) {
      if (entry->route == route) found = entry.get();
    }
  }
  if (!found) return -1;
  for (const auto& [group, index] : found->names) {
    if (group == name) return index;
  }
  return -1;
}

}  // namespace tomodachi::http_impl
