// A tiny AMQP client on rabbitmq-c alone (none of tomodachi's connection code), for the
// Python drivers, which have no AMQP library on Debian:
//   amqp_raw_client <host> <port> publish-typed <exchange> <routing key> <body>
//       publishes `body` with a header of each common AMQP field type (see typed_headers)
//   amqp_raw_client <host> <port> get <queue>
//       basic.get one message (acked) and prints it as JSON: body, and every header with
//       its field type letter: {"body": ..., "headers": {"key": ["l", 42], ...}}; exit 2
//       when the queue is empty
//   amqp_raw_client <host> <port> publish-strings <exchange> <routing key> <body> [k=v ...]
//       publishes `body` with the given headers as long strings ('S'), as Python's
//       propagators leave them in a header table
//   amqp_raw_client <host> <port> declare-bound <queue> <exchange> <routing key>
//       declares `queue` (auto-delete after 10 minutes unused) bound to `exchange` with
//       `routing key`, to read what a service publishes
//   amqp_raw_client <host> <port> hold-exclusive <queue>
//       declares `queue` exclusive (only this connection may use it), prints "holding",
//       and keeps the connection until stdin closes
#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

amqp_bytes_t bytes(const std::string& text) {
  return amqp_bytes_t{text.size(), const_cast<char*>(text.data())};
}

std::string text(amqp_bytes_t b) { return std::string(static_cast<const char*>(b.bytes), b.len); }

void check(amqp_rpc_reply_t reply, const char* what) {
  if (reply.reply_type != AMQP_RESPONSE_NORMAL)
    throw std::runtime_error(std::string(what) + " failed");
}

amqp_connection_state_t open(const std::string& host, int port) {
  amqp_connection_state_t conn = amqp_new_connection();
  amqp_socket_t* socket = amqp_tcp_socket_new(conn);
  if (amqp_socket_open(socket, host.c_str(), port) != AMQP_STATUS_OK)
    throw std::runtime_error("connect failed");
  check(amqp_login(conn, "/", 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, "guest", "guest"), "login");
  amqp_channel_open(conn, 1);
  check(amqp_get_rpc_reply(conn), "channel.open");
  return conn;
}

void close(amqp_connection_state_t conn) {
  amqp_channel_close(conn, 1, AMQP_REPLY_SUCCESS);
  amqp_connection_close(conn, AMQP_REPLY_SUCCESS);
  amqp_destroy_connection(conn);
}

amqp_table_entry_t entry(const char* key, amqp_field_value_t value) {
  amqp_table_entry_t e{};
  e.key = amqp_cstring_bytes(key);
  e.value = value;
  return e;
}

int publish_typed(amqp_connection_state_t conn, const std::string& exchange,
                  const std::string& routing_key, const std::string& body) {
  static char raw_bytes[] = {'\x00', '\xff', 'b'};
  std::vector<amqp_table_entry_t> headers;
  amqp_field_value_t v{};
  v.kind = AMQP_FIELD_KIND_I8, v.value.i8 = -8;
  headers.push_back(entry("i8", v));
  v.kind = AMQP_FIELD_KIND_I16, v.value.i16 = -1600;
  headers.push_back(entry("i16", v));
  v.kind = AMQP_FIELD_KIND_I32, v.value.i32 = 320000;
  headers.push_back(entry("i32", v));
  v.kind = AMQP_FIELD_KIND_I64, v.value.i64 = 6400000000LL;
  headers.push_back(entry("i64", v));
  v.kind = AMQP_FIELD_KIND_TIMESTAMP, v.value.u64 = 1712345678;
  headers.push_back(entry("timestamp", v));
  v.kind = AMQP_FIELD_KIND_BOOLEAN, v.value.boolean = 1;
  headers.push_back(entry("flag", v));
  v.kind = AMQP_FIELD_KIND_F64, v.value.f64 = 0.25;
  headers.push_back(entry("double", v));
  v.kind = AMQP_FIELD_KIND_F32, v.value.f32 = 0.5F;
  headers.push_back(entry("float", v));
  v.kind = AMQP_FIELD_KIND_DECIMAL, v.value.decimal.decimals = 2, v.value.decimal.value = 1234;
  headers.push_back(entry("decimal", v));
  v.kind = AMQP_FIELD_KIND_UTF8, v.value.bytes = amqp_cstring_bytes("text");
  headers.push_back(entry("string", v));
  v.kind = AMQP_FIELD_KIND_BYTES, v.value.bytes = amqp_bytes_t{sizeof(raw_bytes), raw_bytes};
  headers.push_back(entry("bytes", v));
  v.kind = AMQP_FIELD_KIND_VOID;
  headers.push_back(entry("void", v));
  amqp_basic_properties_t properties{};
  properties._flags = AMQP_BASIC_HEADERS_FLAG;
  properties.headers.num_entries = static_cast<int>(headers.size());
  properties.headers.entries = headers.data();
  if (amqp_basic_publish(conn, 1, bytes(exchange), bytes(routing_key), 0, 0, &properties,
                         bytes(body)) != AMQP_STATUS_OK) {
    throw std::runtime_error("publish failed");
  }
  return 0;
}

int publish_strings(amqp_connection_state_t conn, const std::string& exchange,
                    const std::string& routing_key, const std::string& body,
                    const std::vector<std::string>& pairs) {
  std::vector<std::string> keys;
  std::vector<std::string> values;
  for (const auto& pair : pairs) {
    const auto eq = pair.find('=');
    if (eq == std::string::npos) throw std::runtime_error("header without '=': " + pair);
    keys.push_back(pair.substr(0, eq));
    values.push_back(pair.substr(eq + 1));
  }
  std::vector<amqp_table_entry_t> headers;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    amqp_table_entry_t e{};
    e.key = bytes(keys[i]);
    e.value.kind = AMQP_FIELD_KIND_UTF8;
    e.value.value.bytes = bytes(values[i]);
    headers.push_back(e);
  }
  amqp_basic_properties_t properties{};
  properties._flags = AMQP_BASIC_HEADERS_FLAG;
  properties.headers.num_entries = static_cast<int>(headers.size());
  properties.headers.entries = headers.data();
  if (amqp_basic_publish(conn, 1, bytes(exchange), bytes(routing_key), 0, 0, &properties,
                         bytes(body)) != AMQP_STATUS_OK) {
    throw std::runtime_error("publish failed");
  }
  return 0;
}

int declare_bound(amqp_connection_state_t conn, const std::string& queue,
                  const std::string& exchange, const std::string& routing_key) {
  amqp_table_entry_t expires{};
  expires.key = amqp_cstring_bytes("x-expires");
  expires.value.kind = AMQP_FIELD_KIND_I32;
  expires.value.value.i32 = 600000;
  const amqp_table_t arguments{1, &expires};
  amqp_queue_declare(conn, 1, bytes(queue), 0, 0, 0, 0, arguments);
  check(amqp_get_rpc_reply(conn), "queue.declare");
  amqp_queue_bind(conn, 1, bytes(queue), bytes(exchange), bytes(routing_key), amqp_empty_table);
  check(amqp_get_rpc_reply(conn), "queue.bind");
  return 0;
}

std::string json_string(const std::string& value) {
  std::string out = "\"";
  for (unsigned char c : value) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      char escaped[8];
      std::snprintf(escaped, sizeof(escaped), "\\u%04x", c);
      out += escaped;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

std::string field_json(const amqp_field_value_t& v) {
  const std::string kind(1, static_cast<char>(v.kind));
  std::string value;
  switch (v.kind) {
    case AMQP_FIELD_KIND_BOOLEAN:
      value = v.value.boolean ? "true" : "false";
      break;
    case AMQP_FIELD_KIND_I8:
      value = std::to_string(v.value.i8);
      break;
    case AMQP_FIELD_KIND_U8:
      value = std::to_string(v.value.u8);
      break;
    case AMQP_FIELD_KIND_I16:
      value = std::to_string(v.value.i16);
      break;
    case AMQP_FIELD_KIND_U16:
      value = std::to_string(v.value.u16);
      break;
    case AMQP_FIELD_KIND_I32:
      value = std::to_string(v.value.i32);
      break;
    case AMQP_FIELD_KIND_U32:
      value = std::to_string(v.value.u32);
      break;
    case AMQP_FIELD_KIND_I64:
      value = std::to_string(v.value.i64);
      break;
    case AMQP_FIELD_KIND_U64:
    case AMQP_FIELD_KIND_TIMESTAMP:
      value = std::to_string(v.value.u64);
      break;
    case AMQP_FIELD_KIND_F32:
      value = std::to_string(v.value.f32);
      break;
    case AMQP_FIELD_KIND_F64:
      value = std::to_string(v.value.f64);
      break;
    case AMQP_FIELD_KIND_DECIMAL:
      value = "[" + std::to_string(v.value.decimal.decimals) + ", " +
              std::to_string(v.value.decimal.value) + "]";
      break;
    case AMQP_FIELD_KIND_UTF8:
    case AMQP_FIELD_KIND_BYTES:
      value = json_string(text(v.value.bytes));
      break;
    default:
      value = "null";
  }
  return "[" + json_string(kind) + ", " + value + "]";
}

int get(amqp_connection_state_t conn, const std::string& queue) {
  const amqp_rpc_reply_t reply = amqp_basic_get(conn, 1, bytes(queue), 1);
  check(reply, "basic.get");
  if (reply.reply.id == AMQP_BASIC_GET_EMPTY_METHOD) return 2;
  amqp_message_t message;
  check(amqp_read_message(conn, 1, &message, 0), "read message");
  std::string out = "{\"body\": " + json_string(text(message.body)) + ", \"headers\": {";
  if (message.properties._flags & AMQP_BASIC_HEADERS_FLAG) {
    const amqp_table_t& headers = message.properties.headers;
    for (int i = 0; i < headers.num_entries; ++i) {
      if (i) out += ", ";
      out +=
          json_string(text(headers.entries[i].key)) + ": " + field_json(headers.entries[i].value);
    }
  }
  out += "}, \"delivery_mode\": " +
         std::to_string((message.properties._flags & AMQP_BASIC_DELIVERY_MODE_FLAG)
                            ? message.properties.delivery_mode
                            : 0) +
         "}";
  std::cout << out << std::endl;
  amqp_destroy_message(&message);
  return 0;
}

int hold_exclusive(amqp_connection_state_t conn, const std::string& queue) {
  amqp_queue_declare(conn, 1, bytes(queue), 0, 1, 1, 0, amqp_empty_table);
  check(amqp_get_rpc_reply(conn), "queue.declare");
  std::cout << "holding" << std::endl;
  std::string line;
  while (std::getline(std::cin, line)) {
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::cerr << "usage: amqp_raw_client host port "
                 "publish-typed|publish-strings|declare-bound|get|hold-exclusive ...\n";
    return 64;
  }
  try {
    const std::string command = argv[3];
    amqp_connection_state_t conn = open(argv[1], std::atoi(argv[2]));
    int rc = 64;
    if (command == "publish-typed" && argc == 7)
      rc = publish_typed(conn, argv[4], argv[5], argv[6]);
    if (command == "publish-strings" && argc >= 7)
      rc = publish_strings(conn, argv[4], argv[5], argv[6],
                           std::vector<std::string>(argv + 7, argv + argc));
    if (command == "declare-bound" && argc == 7)
      rc = declare_bound(conn, argv[4], argv[5], argv[6]);
    if (command == "get") rc = get(conn, argv[4]);
    if (command == "hold-exclusive") rc = hold_exclusive(conn, argv[4]);
    close(conn);
    return rc;
  } catch (const std::exception& e) {
    std::cerr << "amqp_raw_client: " << e.what() << "\n";
    return 1;
  }
}
