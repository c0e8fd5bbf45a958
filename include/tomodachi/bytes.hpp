#pragma once
/// @file
/// `tomodachi::Bytes`: a byte string distinct from text (Python `bytes`). An HTTP body
/// that is sent as is (never charset-encoded), a `Binary` message attribute.

#include <string>

namespace tomodachi {

struct Bytes {
  std::string value;
  friend bool operator==(const Bytes&, const Bytes&) = default;
};

}  // namespace tomodachi
