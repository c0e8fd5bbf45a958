#pragma once
// Topology steps as the rabbitmq-c method structs that go on the wire (and back: reply
// decoding, field tables <-> JSON, basic properties). Owned memory, no pools.

#include "amqp/topology.hpp"

#include <tomodachi/amqp.hpp>

#include <amqp.h>
#include <amqp_framing.h>

#include <boost/json/object.hpp>

#include <memory>
#include <string>
#include <variant>
#include <vector>

namespace tomodachi::amqp_impl {

/// Channel numbers of a connection: consumers + qos, declarations, publishing (confirm mode).
/// A channel error closes only its own channel, so declaration failures never take the
/// consumers down and publish failures never touch either.
inline constexpr amqp_channel_t consumer_channel = 1;
inline constexpr amqp_channel_t management_channel = 2;
inline constexpr amqp_channel_t publish_channel = 3;

/// A step encoded as the method to send, with the storage its pointers refer to.
/// Not copyable or movable (the method struct points into it).
class EncodedStep {
 public:
  explicit EncodedStep(TopologyStep step);
  EncodedStep(const EncodedStep&) = delete;
  EncodedStep& operator=(const EncodedStep&) = delete;

  const TopologyStep& step() const noexcept { return step_; }
  amqp_channel_t channel() const noexcept { return channel_; }
  amqp_method_number_t method_id() const noexcept { return method_id_; }
  amqp_method_number_t reply_id() const noexcept { return reply_id_; }
  /// The method struct (`amqp_queue_declare_t*`, ...) for amqp_send_method.
  void* method() noexcept;
  const void* method() const noexcept { return const_cast<EncodedStep*>(this)->method(); }

 private:
  using Method = std::variant<amqp_basic_qos_t, amqp_exchange_declare_t, amqp_queue_declare_t,
                              amqp_queue_bind_t, amqp_basic_consume_t>;
  TopologyStep step_;
  amqp_channel_t channel_ = 0;
  amqp_method_number_t method_id_ = 0;
  amqp_method_number_t reply_id_ = 0;
  std::vector<amqp_table_entry_t> arguments_;
  Method method_;
};

/// A view of `text` as amqp bytes (no copy; `text` must outlive the use).
amqp_bytes_t bytes_of(const std::string& text) noexcept;
std::string to_string(amqp_bytes_t bytes);

/// The reply of a step (declare-ok counts, consume-ok tag).
StepResult decode_step_reply(const amqp_method_t& reply);

/// A field table as JSON: integers, floats, booleans, strings (byte strings and long
/// strings as text), nested tables and arrays, timestamps as integers, void as null.
boost::json::object table_to_json(const amqp_table_t& table);

/// Owned storage of an encoded field table (JSON object -> amqp_table_t). Integers are
/// signed 64-bit (`l`, what RabbitMQ and Python's pamqp use), unsigned only above INT64_MAX.
class EncodedTable {
 public:
  explicit EncodedTable(const boost::json::object& object);
  EncodedTable(const EncodedTable&) = delete;
  EncodedTable& operator=(const EncodedTable&) = delete;
  const amqp_table_t& table() const noexcept { return table_; }

 private:
  amqp_field_value_t encode(const boost::json::value& value);
  std::vector<std::unique_ptr<std::string>> strings_;
  std::vector<std::unique_ptr<std::vector<amqp_table_entry_t>>> entry_blocks_;
  std::vector<std::unique_ptr<std::vector<amqp_field_value_t>>> array_blocks_;
  amqp_table_t table_{};
};

/// A received header table, deep-copied into its own pool (rabbitmq-c's frame memory is
/// recycled after every frame).
struct ReceivedHeaders {
  explicit ReceivedHeaders(const amqp_table_t& original);
  ~ReceivedHeaders();
  ReceivedHeaders(const ReceivedHeaders&) = delete;
  ReceivedHeaders& operator=(const ReceivedHeaders&) = delete;
  amqp_pool_t pool{};
  amqp_table_t table{};
};

/// Basic properties of a delivery as AmqpProperties.
AmqpProperties decode_properties(const amqp_basic_properties_t& properties);

/// Owned storage of encoded basic properties for a publish (flags 0 when `properties` is empty).
/// With `original_headers`, the headers are those entries with their original field types,
/// then `properties.headers` (replacing entries of the same key).
class EncodedProperties {
 public:
  explicit EncodedProperties(const AmqpProperties& properties,
                             std::shared_ptr<const ReceivedHeaders> original_headers = nullptr);
  EncodedProperties(const EncodedProperties&) = delete;
  EncodedProperties& operator=(const EncodedProperties&) = delete;
  const amqp_basic_properties_t& properties() const noexcept { return properties_; }

 private:
  AmqpProperties source_;
  std::shared_ptr<const ReceivedHeaders> original_headers_;
  std::unique_ptr<EncodedTable> headers_;
  std::vector<amqp_table_entry_t> merged_headers_;
  amqp_basic_properties_t properties_{};
};

}  // namespace tomodachi::amqp_impl
