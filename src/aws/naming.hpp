#pragma once
// SNS topic and SQS queue names exactly as Python tomodachi builds them (spec/wire.md
// §3.2, §3.5, §3.12, §3.13): names decide which topics and queues a C++ service shares
// with Python services.

#include <tomodachi/error.hpp>

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace tomodachi::aws {

/// A topic or queue name that SNS/SQS or tomodachi's rules reject; the text names it.
class InvalidNameError : public ArgumentError {
 public:
  using ArgumentError::ArgumentError;
};

/// Replaces every code point outside `[A-Za-z0-9_*#-]` by `___<hex of its UTF-8 bytes>_`,
/// except the '.' of a final `.fifo` suffix.
std::string encode_topic(std::string_view topic);

/// Inverse of encode_topic for `___xx_` groups of 1, 2, 3 or 4 bytes; throws
/// InvalidNameError when a group is not valid UTF-8.
std::string decode_topic(std::string_view encoded);

/// Upstream's checks of an unprefixed topic: at most 256 characters and, after
/// stripping trailing '.', 'f', 'i', 'o' characters, only `[A-Za-z0-9_-]`. Throws
/// InvalidNameError with upstream's message.
void validate_topic_name(std::string_view topic);

/// The same for queue names (at most 80 characters).
void validate_queue_name(std::string_view queue_name);

/// prefix + topic, with `.fifo` appended for FIFO topics that lack it (unencoded).
std::string topic_name(std::string_view topic, std::string_view topic_prefix, bool fifo);

/// The SNS `Name` of a topic: encode_topic(topic_name(...)).
std::string sns_topic_name(std::string_view topic, std::string_view topic_prefix, bool fifo);

/// The topic a subscriber reports for a notification from `topic_arn`: the last
/// ':'-separated segment, decoded, without `topic_prefix`. A segment that does not decode
/// is returned as it is.
std::string topic_from_arn(std::string_view topic_arn, std::string_view topic_prefix);

/// Hashed queue name of a subscription without `queue_name` (§3.5): `sha256hex(t)` for
/// competing consumers, else `sha256hex(t + function_name + service_uuid)`, with
/// `queue_name_prefix` before and `.fifo` after for FIFO queues. `encoded_topic` is the
/// encoded, unprefixed topic.
std::string hashed_queue_name(std::string_view encoded_topic, std::string_view function_name,
                              std::string_view service_uuid, bool competing,
                              std::string_view queue_name_prefix, bool fifo);

/// The client-side dead-letter queue of `source_queue` (messaging's `<queue>.dlq` in the
/// form SQS accepts, no '.' but the `.fifo` suffix): `<queue>-dlq`, FIFO
/// `<queue>-dlq.fifo`. When that exceeds SQS's 80 characters (hashed names behind a long
/// `queue_name_prefix`), the source name is cut and `-<8 hex of its sha256>` keeps it
/// distinct: deterministic, so every instance finds the same queue.
std::string sqs_dead_letter_queue_name(std::string_view source_queue);

/// SQS's limit for queue names (`.fifo` included).
inline constexpr std::size_t max_queue_name_length = 80;

/// `arn:aws:sqs:<region>:<account>:<name>` split up.
struct SqsArn {
  std::string partition;
  std::string region;
  std::string account;  ///< digits
  std::string name;
  /// An all-zero account (emulators) is treated as the caller's own account.
  bool own_account() const noexcept;
};

/// True when `text` starts like an SQS ARN (`arn:aws:sqs:`, or another partition).
bool looks_like_sqs_arn(std::string_view text) noexcept;

/// Splits an SQS ARN; throws InvalidNameError `Invalid SQS ARN (<text>)` when it is not one.
SqsArn parse_sqs_arn(std::string_view text);

/// True for an http(s) queue URL (used as it is).
bool looks_like_queue_url(std::string_view text) noexcept;

/// True when a subscription topic is a wildcard (`*` or `#`).
bool is_wildcard_topic(std::string_view topic) noexcept;

/// Matches topic ARNs against a wildcard subscription as upstream does: the encoded,
/// prefixed topic name with `*` = any text without an encoded dot (`___2e_`), `#` = any
/// text; the '.' of an appended `.fifo` matches any character (upstream's unescaped
/// regex).
class WildcardTopicPattern {
 public:
  WildcardTopicPattern(std::string_view topic, std::string_view topic_prefix, bool fifo);

  bool matches(std::string_view topic_arn) const;

  /// The encoded name pattern, e.g. `orders___2e_*`.
  const std::string& pattern() const noexcept { return pattern_; }

 private:
  bool match_name(std::size_t pattern_index, std::string_view name, std::size_t name_index,
                  std::vector<signed char>& memo) const;

  std::string pattern_;
};

/// The `aws:SourceArn` of a queue policy admitting `topic_arns` (§3.7): the ARN itself
/// for one ARN, else the longest common prefix followed by `*`. (Upstream omits the `*`
/// when one ARN is a prefix of another, which locks the longer topic out; we append it
/// whenever the ARNs differ.)
std::string policy_source_arn(const std::vector<std::string>& topic_arns);

}  // namespace tomodachi::aws
