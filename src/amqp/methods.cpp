#include "amqp/methods.hpp"

#include <boost/json.hpp>

#include <limits>
#include <new>

namespace tomodachi::amqp_impl {
namespace {

amqp_boolean_t flag(bool value) { return value ? 1 : 0; }

amqp_table_entry_t integer_entry(const char* key, std::int64_t value) {
  amqp_table_entry_t entry{};
  entry.key.bytes = const_cast<char*>(key);
  entry.key.len = std::char_traits<char>::length(key);
  // The smallest width that holds the value, as upstream's client encodes integers;
  // RabbitMQ compares integer arguments by value, whatever the width.
  if (value >= std::numeric_limits<std::int32_t>::min() &&
      value <= std::numeric_limits<std::int32_t>::max()) {
    entry.value.kind = AMQP_FIELD_KIND_I32;
    entry.value.value.i32 = static_cast<std::int32_t>(value);
  } else {
    entry.value.kind = AMQP_FIELD_KIND_I64;
    entry.value.value.i64 = value;
  }
  return entry;
}

amqp_table_t table_of(std::vector<amqp_table_entry_t>& entries) {
  amqp_table_t table{};
  table.num_entries = static_cast<int>(entries.size());
  table.entries = entries.empty() ? nullptr : entries.data();
  return table;
}

boost::json::value field_to_json(const amqp_field_value_t& field);

boost::json::array array_to_json(const amqp_array_t& array) {
  boost::json::array out;
  for (int i = 0; i < array.num_entries; ++i) out.push_back(field_to_json(array.entries[i]));
  return out;
}

boost::json::value field_to_json(const amqp_field_value_t& field) {
  switch (field.kind) {
    case AMQP_FIELD_KIND_BOOLEAN:
      return field.value.boolean != 0;
    case AMQP_FIELD_KIND_I8:
      return field.value.i8;
    case AMQP_FIELD_KIND_U8:
      return field.value.u8;
    case AMQP_FIELD_KIND_I16:
      return field.value.i16;
    case AMQP_FIELD_KIND_U16:
      return field.value.u16;
    case AMQP_FIELD_KIND_I32:
      return field.value.i32;
    case AMQP_FIELD_KIND_U32:
      return field.value.u32;
    case AMQP_FIELD_KIND_I64:
      return field.value.i64;
    case AMQP_FIELD_KIND_U64:
      return field.value.u64;
    case AMQP_FIELD_KIND_TIMESTAMP:
      return field.value.u64;
    case AMQP_FIELD_KIND_F32:
      return static_cast<double>(field.value.f32);
    case AMQP_FIELD_KIND_F64:
      return field.value.f64;
    case AMQP_FIELD_KIND_DECIMAL: {
      double value = field.value.decimal.value;
      for (int i = 0; i < field.value.decimal.decimals; ++i) value /= 10;
      return value;
    }
    case AMQP_FIELD_KIND_UTF8:
    case AMQP_FIELD_KIND_BYTES:
      return boost::json::string(to_string(field.value.bytes));
    case AMQP_FIELD_KIND_TABLE:
      return table_to_json(field.value.table);
    case AMQP_FIELD_KIND_ARRAY:
      return array_to_json(field.value.array);
    default:
      return nullptr;
  }
}

std::optional<std::string> optional_bytes(amqp_flags_t flags, amqp_flags_t bit,
                                          amqp_bytes_t bytes) {
  if ((flags & bit) == 0) return std::nullopt;
  return to_string(bytes);
}

}  // namespace

amqp_bytes_t bytes_of(const std::string& text) noexcept {
  amqp_bytes_t bytes;
  bytes.len = text.size();
  bytes.bytes = const_cast<char*>(text.data());
  return bytes;
}

std::string to_string(amqp_bytes_t bytes) {
  if (bytes.len == 0 || bytes.bytes == nullptr) return {};
  return std::string(static_cast<const char*>(bytes.bytes), bytes.len);
}

EncodedStep::EncodedStep(TopologyStep step) : step_(std::move(step)) {
  struct Encoder {
    EncodedStep& self;
    void operator()(const QosStep& s) {
      self.channel_ = consumer_channel;
      self.method_id_ = AMQP_BASIC_QOS_METHOD;
      self.reply_id_ = AMQP_BASIC_QOS_OK_METHOD;
      amqp_basic_qos_t m{};
      m.prefetch_size = 0;
      m.prefetch_count = s.prefetch_count;
      m.global = flag(s.global);
      self.method_ = m;
    }
    void operator()(const ExchangeDeclareStep& s) {
      self.channel_ = management_channel;
      self.method_id_ = AMQP_EXCHANGE_DECLARE_METHOD;
      self.reply_id_ = AMQP_EXCHANGE_DECLARE_OK_METHOD;
      amqp_exchange_declare_t m{};
      m.exchange = bytes_of(s.exchange);
      m.type = bytes_of(s.type);
      m.passive = 0;
      m.durable = flag(s.durable);
      m.auto_delete = flag(s.auto_delete);
      m.internal = 0;
      m.nowait = 0;
      m.arguments = amqp_empty_table;
      self.method_ = m;
    }
    void operator()(const QueueDeclareStep& s) {
      self.channel_ = management_channel;
      self.method_id_ = AMQP_QUEUE_DECLARE_METHOD;
      self.reply_id_ = AMQP_QUEUE_DECLARE_OK_METHOD;
      if (s.x_expires) self.arguments_.push_back(integer_entry("x-expires", *s.x_expires));
      amqp_queue_declare_t m{};
      m.queue = bytes_of(s.queue);
      m.passive = flag(s.passive);
      m.durable = flag(s.durable);
      m.exclusive = flag(s.exclusive);
      m.auto_delete = flag(s.auto_delete);
      m.nowait = 0;
      m.arguments = table_of(self.arguments_);
      self.method_ = m;
    }
    void operator()(const QueueBindStep& s) {
      self.channel_ = management_channel;
      self.method_id_ = AMQP_QUEUE_BIND_METHOD;
      self.reply_id_ = AMQP_QUEUE_BIND_OK_METHOD;
      amqp_queue_bind_t m{};
      m.queue = bytes_of(s.queue);
      m.exchange = bytes_of(s.exchange);
      m.routing_key = bytes_of(s.routing_key);
      m.nowait = 0;
      m.arguments = amqp_empty_table;
      self.method_ = m;
    }
    void operator()(const ConsumeStep& s) {
      self.channel_ = consumer_channel;
      self.method_id_ = AMQP_BASIC_CONSUME_METHOD;
      self.reply_id_ = AMQP_BASIC_CONSUME_OK_METHOD;
      amqp_basic_consume_t m{};
      m.queue = bytes_of(s.queue);
      m.consumer_tag = amqp_empty_bytes;
      m.no_local = 0;
      m.no_ack = 0;
      m.exclusive = 0;
      m.nowait = 0;
      m.arguments = amqp_empty_table;
      self.method_ = m;
    }
  };
  std::visit(Encoder{*this}, step_);
}

void* EncodedStep::method() noexcept {
  return std::visit([](auto& m) -> void* { return &m; }, method_);
}

StepResult decode_step_reply(const amqp_method_t& reply) {
  StepResult result;
  if (reply.id == AMQP_QUEUE_DECLARE_OK_METHOD) {
    const auto* ok = static_cast<const amqp_queue_declare_ok_t*>(reply.decoded);
    result.message_count = ok->message_count;
    result.consumer_count = ok->consumer_count;
  } else if (reply.id == AMQP_BASIC_CONSUME_OK_METHOD) {
    const auto* ok = static_cast<const amqp_basic_consume_ok_t*>(reply.decoded);
    result.consumer_tag = to_string(ok->consumer_tag);
  }
  return result;
}

boost::json::object table_to_json(const amqp_table_t& table) {
  boost::json::object out;
  for (int i = 0; i < table.num_entries; ++i) {
    out[to_string(table.entries[i].key)] = field_to_json(table.entries[i].value);
  }
  return out;
}

EncodedTable::EncodedTable(const boost::json::object& object) {
  auto entries = std::make_unique<std::vector<amqp_table_entry_t>>();
  for (const auto& [key, value] : object) {
    amqp_table_entry_t entry{};
    strings_.push_back(std::make_unique<std::string>(key));
    entry.key = bytes_of(*strings_.back());
    entry.value = encode(value);
    entries->push_back(entry);
  }
  table_ = table_of(*entries);
  entry_blocks_.push_back(std::move(entries));
}

amqp_field_value_t EncodedTable::encode(const boost::json::value& value) {
  amqp_field_value_t field{};
  switch (value.kind()) {
    case boost::json::kind::null:
      field.kind = AMQP_FIELD_KIND_VOID;
      break;
    case boost::json::kind::bool_:
      field.kind = AMQP_FIELD_KIND_BOOLEAN;
      field.value.boolean = flag(value.get_bool());
      break;
    case boost::json::kind::int64:
      field.kind = AMQP_FIELD_KIND_I64;
      field.value.i64 = value.get_int64();
      break;
    case boost::json::kind::uint64:
      if (value.get_uint64() <=
          static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        field.kind = AMQP_FIELD_KIND_I64;
        field.value.i64 = static_cast<std::int64_t>(value.get_uint64());
      } else {
        field.kind = AMQP_FIELD_KIND_U64;
        field.value.u64 = value.get_uint64();
      }
      break;
    case boost::json::kind::double_:
      field.kind = AMQP_FIELD_KIND_F64;
      field.value.f64 = value.get_double();
      break;
    case boost::json::kind::string:
      strings_.push_back(std::make_unique<std::string>(value.get_string()));
      field.kind = AMQP_FIELD_KIND_UTF8;
      field.value.bytes = bytes_of(*strings_.back());
      break;
    case boost::json::kind::array: {
      auto values = std::make_unique<std::vector<amqp_field_value_t>>();
      for (const auto& item : value.get_array()) values->push_back(encode(item));
      field.kind = AMQP_FIELD_KIND_ARRAY;
      field.value.array.num_entries = static_cast<int>(values->size());
      field.value.array.entries = values->empty() ? nullptr : values->data();
      array_blocks_.push_back(std::move(values));
      break;
    }
    case boost::json::kind::object: {
      auto entries = std::make_unique<std::vector<amqp_table_entry_t>>();
      for (const auto& [key, item] : value.get_object()) {
        amqp_table_entry_t entry{};
        strings_.push_back(std::make_unique<std::string>(key));
        entry.key = bytes_of(*strings_.back());
        entry.value = encode(item);
        entries->push_back(entry);
      }
      field.kind = AMQP_FIELD_KIND_TABLE;
      field.value.table = table_of(*entries);
      entry_blocks_.push_back(std::move(entries));
      break;
    }
  }
  return field;
}

ReceivedHeaders::ReceivedHeaders(const amqp_table_t& original) {
  init_amqp_pool(&pool, 4096);
  if (amqp_table_clone(&original, &table, &pool) != AMQP_STATUS_OK) {
    empty_amqp_pool(&pool);
    throw std::bad_alloc();
  }
}

ReceivedHeaders::~ReceivedHeaders() { empty_amqp_pool(&pool); }

AmqpProperties decode_properties(const amqp_basic_properties_t& p) {
  AmqpProperties out;
  const amqp_flags_t f = p._flags;
  out.content_type = optional_bytes(f, AMQP_BASIC_CONTENT_TYPE_FLAG, p.content_type);
  out.content_encoding = optional_bytes(f, AMQP_BASIC_CONTENT_ENCODING_FLAG, p.content_encoding);
  if (f & AMQP_BASIC_HEADERS_FLAG) out.headers = table_to_json(p.headers);
  if (f & AMQP_BASIC_DELIVERY_MODE_FLAG) out.delivery_mode = p.delivery_mode;
  if (f & AMQP_BASIC_PRIORITY_FLAG) out.priority = p.priority;
  out.correlation_id = optional_bytes(f, AMQP_BASIC_CORRELATION_ID_FLAG, p.correlation_id);
  out.reply_to = optional_bytes(f, AMQP_BASIC_REPLY_TO_FLAG, p.reply_to);
  out.expiration = optional_bytes(f, AMQP_BASIC_EXPIRATION_FLAG, p.expiration);
  out.message_id = optional_bytes(f, AMQP_BASIC_MESSAGE_ID_FLAG, p.message_id);
  if (f & AMQP_BASIC_TIMESTAMP_FLAG) out.timestamp = p.timestamp;
  out.type = optional_bytes(f, AMQP_BASIC_TYPE_FLAG, p.type);
  out.user_id = optional_bytes(f, AMQP_BASIC_USER_ID_FLAG, p.user_id);
  out.app_id = optional_bytes(f, AMQP_BASIC_APP_ID_FLAG, p.app_id);
  return out;
}

EncodedProperties::EncodedProperties(const AmqpProperties& properties,
                                     std::shared_ptr<const ReceivedHeaders> original_headers)
    : source_(properties), original_headers_(std::move(original_headers)) {
  amqp_basic_properties_t& p = properties_;
  const auto set_bytes = [&](const std::optional<std::string>& value, amqp_flags_t bit,
                             amqp_bytes_t& field) {
    if (!value) return;
    p._flags |= bit;
    field = bytes_of(*value);
  };
  set_bytes(source_.content_type, AMQP_BASIC_CONTENT_TYPE_FLAG, p.content_type);
  set_bytes(source_.content_encoding, AMQP_BASIC_CONTENT_ENCODING_FLAG, p.content_encoding);
  if (source_.headers) headers_ = std::make_unique<EncodedTable>(*source_.headers);
  if (original_headers_) {
    const amqp_table_t& original = original_headers_->table;
    for (int i = 0; i < original.num_entries; ++i) {
      const amqp_table_entry_t& entry = original.entries[i];
      if (source_.headers && source_.headers->contains(to_string(entry.key))) continue;  // replaced
      merged_headers_.push_back(entry);
    }
    if (headers_) {
      const amqp_table_t& added = headers_->table();
      merged_headers_.insert(merged_headers_.end(), added.entries,
                             added.entries + added.num_entries);
    }
    p._flags |= AMQP_BASIC_HEADERS_FLAG;
    p.headers = table_of(merged_headers_);
  } else if (headers_) {
    p._flags |= AMQP_BASIC_HEADERS_FLAG;
    p.headers = headers_->table();
  }
  if (source_.delivery_mode) {
    p._flags |= AMQP_BASIC_DELIVERY_MODE_FLAG;
    p.delivery_mode = *source_.delivery_mode;
  }
  if (source_.priority) {
    p._flags |= AMQP_BASIC_PRIORITY_FLAG;
    p.priority = *source_.priority;
  }
  set_bytes(source_.correlation_id, AMQP_BASIC_CORRELATION_ID_FLAG, p.correlation_id);
  set_bytes(source_.reply_to, AMQP_BASIC_REPLY_TO_FLAG, p.reply_to);
  set_bytes(source_.expiration, AMQP_BASIC_EXPIRATION_FLAG, p.expiration);
  set_bytes(source_.message_id, AMQP_BASIC_MESSAGE_ID_FLAG, p.message_id);
  if (source_.timestamp) {
    p._flags |= AMQP_BASIC_TIMESTAMP_FLAG;
    p.timestamp = *source_.timestamp;
  }
  set_bytes(source_.type, AMQP_BASIC_TYPE_FLAG, p.type);
  set_bytes(source_.user_id, AMQP_BASIC_USER_ID_FLAG, p.user_id);
  set_bytes(source_.app_id, AMQP_BASIC_APP_ID_FLAG, p.app_id);
}

}  // namespace tomodachi::amqp_impl
