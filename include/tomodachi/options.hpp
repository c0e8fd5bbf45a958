#pragma once
/// @file
/// Typed service options with the keys and defaults of Python tomodachi
/// (`tomodachi.Options`). Every key is reachable by dotted name from JSON
/// (`"http.port"`), legacy aliases (`aws.endpoint_url`, ...) are accepted on input,
/// and unknown keys are rejected with an error naming the key.

#include <tomodachi/error.hpp>

#include <boost/json/fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace tomodachi {

/// Raised for an unknown option key or a value of the wrong type; the message names
/// the key (and the value). Derives from `tomodachi::Error` (before 0.2:
/// `std::invalid_argument`).
class OptionError : public Error {
 public:
  using Error::Error;
};

struct Options {
  struct Http {
    std::optional<int> port = 9700;  ///< nullopt or 0: a random free port
    std::string host = "0.0.0.0";    ///< "" = all interfaces
    bool reuse_port = true;          ///< SO_REUSEPORT
    std::string content_type = "text/plain; charset=utf-8";
    std::string charset = "utf-8";
    /// Max request body: bytes, or a string such as "100MB" (K/KB, M/MB, G/GB, B).
    std::variant<std::int64_t, std::string> client_max_size = std::int64_t{104857600};
    int termination_grace_period_seconds = 30;  ///< one deadline for the whole stop
    /// true/false, or a file path that also receives the records as JSON lines.
    std::variant<bool, std::string> access_log = true;
    std::vector<std::string> real_ip_from;  ///< trusted proxy IPs / CIDRs
    std::string real_ip_header = "X-Forwarded-For";
    int keepalive_timeout = 0;  ///< seconds; 0 = keep-alive off
    int keepalive_expiry = 0;   ///< alias of keepalive_timeout
    std::optional<int> max_keepalive_time;
    std::optional<int> max_keepalive_requests;
    std::string server_header = "tomodachi";
    // C++ additions: protection a public server needs, on by default.
    int max_header_size = 16384;       ///< header field lines + final CRLF, bytes (431 beyond)
    int max_request_line_size = 8190;  ///< request line without CRLF, bytes (414 beyond)
    int header_read_timeout = 15;      ///< seconds to receive a complete header block
    int body_read_timeout = 60;  ///< seconds without progress reading a body or writing a response
    int websocket_max_message_size = 4194304;  ///< bytes per websocket message
    /// Seconds: pings every half of it, a peer silent for it (or a send stuck for it) is cut; 0 =
    /// off.
    int websocket_idle_timeout = 300;
    bool operator==(const Http&) const = default;
  };

  struct AwsSnsSqs {
    std::optional<std::string> region_name;
    std::optional<std::string> aws_access_key_id;
    std::optional<std::string> aws_secret_access_key;
    std::string topic_prefix;
    std::string queue_name_prefix;
    /// nullopt = leave the topic as it is; "" = disable SSE; else a key id or alias.
    std::optional<std::string> sns_kms_master_key_id;
    std::optional<std::string> sqs_kms_master_key_id;
    std::optional<int> sqs_kms_data_key_reuse_period;
    std::optional<std::string> queue_policy;
    std::optional<std::string> wildcard_queue_policy;
    bool operator==(const AwsSnsSqs&) const = default;
  };

  struct AwsEndpointUrls {
    std::optional<std::string> sns;
    std::optional<std::string> sqs;
    std::optional<std::string> sts;  ///< falls back to `sns` when unset
    bool operator==(const AwsEndpointUrls&) const = default;
  };

  struct Amqp {
    struct Qos {
      int queue_prefetch_count = 100;
      int global_prefetch_count = 400;
      bool operator==(const Qos&) const = default;
    };
    std::string host = "127.0.0.1";
    int port = 5672;
    std::string login = "guest";
    std::string password = "guest";
    std::string exchange_name = "amq.topic";
    std::string routing_key_prefix;
    std::string queue_name_prefix;
    std::string virtualhost = "/";
    bool ssl = false;
    int heartbeat = 60;
    /// Seconds → `x-expires` in ms. nullopt (`null` or `false` in JSON: upstream's falsy
    /// values) or 0: no expiry.
    std::optional<int> queue_ttl = 86400;
    Qos qos;
    bool operator==(const Amqp&) const = default;
  };

  /// ✚ Liveness/readiness/startup endpoints (docs/operations.md).
  struct Health {
    bool enabled = false;          ///< false: no health paths at all (a Python fleet's routes)
    std::string host = "0.0.0.0";  ///< the management listener's address
    /// A management listener of its own; nullopt: the service's HTTP server serves the paths.
    std::optional<int> port;
    std::string path_prefix = "/";    ///< `<prefix>livez`, `readyz`, `startupz`
    double max_loop_lag = 5;          ///< seconds without a loop heartbeat: livez 503
    double drain_delay = 0;           ///< seconds readyz is 503 before the stop sequence
    double sqs_receive_max_age = 60;  ///< seconds since an SQS receive loop's last receive
  };

  struct Watcher {
    std::vector<std::string> ignored_dirs;
    std::vector<std::string> watched_file_endings;
    bool operator==(const Watcher&) const = default;
  };

  Http http;
  AwsSnsSqs aws_sns_sqs;
  AwsEndpointUrls aws_endpoint_urls;
  Amqp amqp;
  Watcher watcher;
  Health health;

  /// Options from a JSON object: nested groups, dotted keys and mixtures, legacy
  /// aliases included (`{"http": {"port": 1}, "amqp.qos.queue_prefetch_count": 4}`).
  /// Throws OptionError naming the first bad key.
  static Options from_json(const boost::json::object& values);

  /// Applies `values` like from_json, on top of the current values.
  void update(const boost::json::object& values);

  /// Sets one option by dotted key (aliases accepted); a group key takes an object.
  void set(std::string_view key, const boost::json::value& value);

  /// The value of a dotted key; a group key gives an object of its members.
  boost::json::value get(std::string_view key) const;

  /// True when `key` names an option or an option group (aliases included).
  static bool has_key(std::string_view key);

  /// Every option as `{"http.port": 9700, ...}` in definition order.
  boost::json::object asdict() const;

  friend bool operator==(const Options&, const Options&) = default;
};

}  // namespace tomodachi
