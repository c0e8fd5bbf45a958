#include "aws/naming.hpp"

#include "aws/ascii.hpp"

#include "core/encoding.hpp"

#include <algorithm>

namespace tomodachi::aws {
namespace {

constexpr char hex_digits[] = "0123456789abcdef";
constexpr std::string_view encoded_dot = "___2e_";

bool is_topic_char(unsigned char c) {
  return ascii::is_alnum(c) || c == '_' || c == '*' || c == '#' || c == '-';
}

bool is_name_char(unsigned char c) { return ascii::is_alnum(c) || c == '_' || c == '-'; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;  // upper-case hex is not part of the encoding
}

// Length of the UTF-8 sequence starting with `lead` (1 for stray bytes).
std::size_t sequence_length(unsigned char lead) {
  if (lead >= 0xf0 && lead <= 0xf7) return 4;
  if (lead >= 0xe0) return 3;
  if (lead >= 0xc0) return 2;
  return 1;
}

bool valid_utf8(std::string_view bytes) {
  std::size_t i = 0;
  while (i < bytes.size()) {
    const auto lead = static_cast<unsigned char>(bytes[i]);
    std::size_t length = 0;
    std::uint32_t code = 0;
    if (lead < 0x80) {
      ++i;
      continue;
    } else if (lead >= 0xc2 && lead <= 0xdf) {
      length = 2;
      code = lead & 0x1f;
    } else if (lead >= 0xe0 && lead <= 0xef) {
      length = 3;
      code = lead & 0x0f;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      length = 4;
      code = lead & 0x07;
    } else {
      return false;
    }
    if (i + length > bytes.size()) return false;
    for (std::size_t k = 1; k < length; ++k) {
      const auto c = static_cast<unsigned char>(bytes[i + k]);
      if ((c & 0xc0) != 0x80) return false;
      code = (code << 6) | (c & 0x3f);
    }
    if ((length == 3 && code < 0x800) || (length == 4 && (code < 0x10000 || code > 0x10ffff)) ||
        (code >= 0xd800 && code <= 0xdfff)) {
      return false;
    }
    i += length;
  }
  return true;
}

// Python's `name.rstrip(".fifo")`: strips trailing characters of the set.
std::string_view strip_fifo_characters(std::string_view name) {
  while (!name.empty() &&
         (name.back() == '.' || name.back() == 'f' || name.back() == 'i' || name.back() == 'o')) {
    name.remove_suffix(1);
  }
  return name;
}

void validate_name(std::string_view kind, std::string_view name, std::size_t max_length) {
  if (encoding::code_point_count(name) > max_length) {
    throw InvalidNameError(std::string(kind) + " name (" + std::string(name) + ") is too long.");
  }
  const auto stripped = strip_fifo_characters(name);
  if (!std::all_of(stripped.begin(), stripped.end(),
                   [](char c) { return is_name_char(static_cast<unsigned char>(c)); })) {
    throw InvalidNameError(
        std::string(kind) + " name (" + std::string(name) +
        ") may only contain alphanumeric characters, hyphens (-), and underscores (_).");
  }
}

bool all_digits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

std::string encode_topic(std::string_view topic) {
  std::string out;
  out.reserve(topic.size());
  std::size_t i = 0;
  while (i < topic.size()) {
    const auto c = static_cast<unsigned char>(topic[i]);
    if (is_topic_char(c)) {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    // Python's `(?!\.fifo$)`: `$` also matches before a final newline.
    if (c == '.') {
      const auto rest = topic.substr(i);
      if (rest == ".fifo" || rest == ".fifo\n") {
        out += '.';
        ++i;
        continue;
      }
    }
    const std::size_t length = std::min(sequence_length(c), topic.size() - i);
    out += "___";
    for (std::size_t k = 0; k < length; ++k) {
      const auto byte = static_cast<unsigned char>(topic[i + k]);
      out += hex_digits[byte >> 4];
      out += hex_digits[byte & 15];
    }
    out += '_';
    i += length;
  }
  return out;
}

std::string decode_topic(std::string_view encoded) {
  std::string out;
  out.reserve(encoded.size());
  std::size_t i = 0;
  while (i < encoded.size()) {
    // `___([0-9a-f]{2}|[0-9a-f]{4}|[0-9a-f]{6}|[0-9a-f]{8})_`, shortest alternative first.
    bool matched = false;
    if (encoded.substr(i, 3) == "___") {
      std::size_t digits = 0;
      while (i + 3 + digits < encoded.size() && digits < 8 &&
             hex_value(encoded[i + 3 + digits]) >= 0)
        ++digits;
      for (std::size_t length = 2; length <= digits; length += 2) {
        if (i + 3 + length < encoded.size() && encoded[i + 3 + length] == '_') {
          std::string bytes;
          for (std::size_t k = 0; k < length; k += 2) {
            bytes += static_cast<char>(hex_value(encoded[i + 3 + k]) * 16 +
                                       hex_value(encoded[i + 4 + k]));
          }
          if (!valid_utf8(bytes)) {
            throw InvalidNameError("cannot decode '" + std::string(encoded.substr(i, length + 4)) +
                                   "' in topic '" + std::string(encoded) + "': not UTF-8");
          }
          out += bytes;
          i += 3 + length + 1;
          matched = true;
          break;
        }
      }
    }
    if (!matched) {
      out += encoded[i];
      ++i;
    }
  }
  return out;
}

void validate_topic_name(std::string_view topic) { validate_name("Topic", topic, 256); }

void validate_queue_name(std::string_view queue_name) { validate_name("Queue", queue_name, 80); }

std::string topic_name(std::string_view topic, std::string_view topic_prefix, bool fifo) {
  std::string name = std::string(topic_prefix) + std::string(topic);
  if (fifo && !name.ends_with(".fifo")) name += ".fifo";
  return name;
}

std::string sns_topic_name(std::string_view topic, std::string_view topic_prefix, bool fifo) {
  return encode_topic(topic_name(topic, topic_prefix, fifo));
}

std::string topic_from_arn(std::string_view topic_arn, std::string_view topic_prefix) {
  const auto colon = topic_arn.rfind(':');
  const auto segment = colon == std::string_view::npos ? topic_arn : topic_arn.substr(colon + 1);
  std::string topic;
  try {
    topic = decode_topic(segment);
  } catch (const InvalidNameError&) {
    topic = std::string(segment);
  }
  if (!topic_prefix.empty() && topic.starts_with(topic_prefix)) topic.erase(0, topic_prefix.size());
  return topic;
}

std::string hashed_queue_name(std::string_view encoded_topic, std::string_view function_name,
                              std::string_view service_uuid, bool competing,
                              std::string_view queue_name_prefix, bool fifo) {
  std::string input(encoded_topic);
  if (!competing) {
    input += function_name;
    input += service_uuid;
  }
  std::string name = std::string(queue_name_prefix) + encoding::sha256_hex(input);
  if (fifo) name += ".fifo";
  return name;
}

bool SqsArn::own_account() const noexcept {
  return std::all_of(account.begin(), account.end(), [](char c) { return c == '0'; });
}

std::string sqs_dead_letter_queue_name(std::string_view source_queue) {
  const bool fifo = source_queue.ends_with(".fifo");
  const auto base = fifo ? source_queue.substr(0, source_queue.size() - 5) : source_queue;
  const std::string suffix = fifo ? "-dlq.fifo" : "-dlq";
  if (base.size() + suffix.size() <= max_queue_name_length) return std::string(base) + suffix;
  const std::string digest = "-" + encoding::sha256_hex(source_queue).substr(0, 8);
  const auto keep = max_queue_name_length - suffix.size() - digest.size();
  return std::string(base.substr(0, keep)) + digest + suffix;
}

bool looks_like_sqs_arn(std::string_view text) noexcept {
  if (!text.starts_with("arn:")) return false;
  const auto service = text.find(':', 4);
  return service != std::string_view::npos && text.substr(service + 1).starts_with("sqs:");
}

SqsArn parse_sqs_arn(std::string_view text) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (parts.size() < 5) {
    const auto colon = text.find(':', start);
    if (colon == std::string_view::npos) break;
    parts.push_back(text.substr(start, colon - start));
    start = colon + 1;
  }
  const auto invalid = [&] {
    return InvalidNameError("Invalid SQS ARN (" + std::string(text) + ")");
  };
  if (parts.size() != 5 || parts[0] != "arn" || parts[1].empty() || parts[2] != "sqs" ||
      parts[3].empty() || !all_digits(parts[4])) {
    throw invalid();
  }
  SqsArn arn{std::string(parts[1]), std::string(parts[3]), std::string(parts[4]),
             std::string(text.substr(start))};
  if (arn.name.empty() || arn.name.find(':') != std::string::npos) throw invalid();
  return arn;
}

bool looks_like_queue_url(std::string_view text) noexcept {
  return text.starts_with("https://") || text.starts_with("http://");
}

bool is_wildcard_topic(std::string_view topic) noexcept {
  return topic.find_first_of("*#") != std::string_view::npos;
}

WildcardTopicPattern::WildcardTopicPattern(std::string_view topic, std::string_view topic_prefix,
                                           bool fifo)
    : pattern_(sns_topic_name(topic, topic_prefix, fifo)) {}

bool WildcardTopicPattern::matches(std::string_view topic_arn) const {
  // ^arn:aws:sns:[^:]+:[^:]+:<pattern>$
  constexpr std::string_view head = "arn:aws:sns:";
  if (!topic_arn.starts_with(head)) return false;
  std::size_t position = head.size();
  for (int field = 0; field < 2; ++field) {
    const auto colon = topic_arn.find(':', position);
    if (colon == std::string_view::npos || colon == position) return false;
    position = colon + 1;
  }
  const auto name = topic_arn.substr(position);
  std::vector<signed char> memo((pattern_.size() + 1) * (name.size() + 1), -1);
  return match_name(0, name, 0, memo);
}

bool WildcardTopicPattern::match_name(std::size_t p, std::string_view name, std::size_t n,
                                      std::vector<signed char>& memo) const {
  auto& cached = memo[p * (name.size() + 1) + n];
  if (cached >= 0) return cached != 0;
  bool result = false;
  if (p == pattern_.size()) {
    result = n == name.size();
  } else if (pattern_[p] == '#') {
    // `.*`: any text (ARNs hold no newlines).
    for (std::size_t k = n; k <= name.size() && !result; ++k)
      result = match_name(p + 1, name, k, memo);
  } else if (pattern_[p] == '*') {
    // `((?!___2e_).)*`: each consumed character must not start an encoded dot.
    for (std::size_t k = n;; ++k) {
      if (match_name(p + 1, name, k, memo)) {
        result = true;
        break;
      }
      if (k == name.size() || name.substr(k).starts_with(encoded_dot)) break;
    }
  } else if (n < name.size() && (pattern_[p] == '.' || pattern_[p] == name[n])) {
    result = match_name(p + 1, name, n + 1, memo);
  }
  cached = result ? 1 : 0;
  return result;
}

std::string policy_source_arn(const std::vector<std::string>& topic_arns) {
  if (topic_arns.empty()) return {};
  std::string_view prefix = topic_arns.front();
  bool all_equal = true;
  for (const auto& arn : topic_arns) {
    if (arn != topic_arns.front()) all_equal = false;
    std::size_t k = 0;
    while (k < prefix.size() && k < arn.size() && prefix[k] == arn[k]) ++k;
    prefix = prefix.substr(0, k);
  }
  if (all_equal) return topic_arns.front();
  return std::string(prefix) + "*";
}

}  // namespace tomodachi::aws
