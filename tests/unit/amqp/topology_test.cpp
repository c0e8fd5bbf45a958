// The broker calls of a subscribing service, encoded as the rabbitmq-c method structs we
// send, compared with the calls upstream made (amqp_names.json `subscription` cases), and
// the publish cases' exchange / routing key.
#include "amqp/topology.hpp"
#include "amqp/methods.hpp"
#include "amqp/naming.hpp"
#include "fixture.hpp"

#include <tomodachi/amqp.hpp>

#include <gtest/gtest.h>

namespace rmq = tomodachi::amqp_impl;
namespace json = boost::json;
using amqp_fixture::cases;
using amqp_fixture::str;

namespace {

std::string bytes(amqp_bytes_t b) { return rmq::to_string(b); }

json::object arguments_json(const amqp_table_t& table) {
  json::object out;
  for (int i = 0; i < table.num_entries; ++i) {
    const auto& v = table.entries[i].value;
    EXPECT_TRUE(v.kind == AMQP_FIELD_KIND_I32 || v.kind == AMQP_FIELD_KIND_I64)
        << "integer argument";
    out[bytes(table.entries[i].key)] = v.kind == AMQP_FIELD_KIND_I32 ? v.value.i32 : v.value.i64;
  }
  return out;
}

// The call as upstream's recording fake wrote it down, read from the encoded method.
json::object call_of(rmq::EncodedStep& encoded) {
  json::object call;
  switch (encoded.method_id()) {
    case AMQP_BASIC_QOS_METHOD: {
      const auto* m = static_cast<const amqp_basic_qos_t*>(encoded.method());
      EXPECT_EQ(encoded.channel(), rmq::consumer_channel);
      call = {{"method", "basic.qos"},
              {"prefetch_size", m->prefetch_size},
              {"prefetch_count", m->prefetch_count},
              {"global", m->global != 0}};
      break;
    }
    case AMQP_EXCHANGE_DECLARE_METHOD: {
      const auto* m = static_cast<const amqp_exchange_declare_t*>(encoded.method());
      EXPECT_EQ(m->internal, 0);
      EXPECT_EQ(m->nowait, 0);
      call = {{"method", "exchange.declare"},
              {"exchange", bytes(m->exchange)},
              {"type", bytes(m->type)},
              {"passive", m->passive != 0},
              {"durable", m->durable != 0},
              {"auto_delete", m->auto_delete != 0},
              {"arguments", arguments_json(m->arguments)}};
      break;
    }
    case AMQP_QUEUE_DECLARE_METHOD: {
      const auto* m = static_cast<const amqp_queue_declare_t*>(encoded.method());
      EXPECT_EQ(m->nowait, 0);
      call = {{"method", "queue.declare"},
              {"queue", bytes(m->queue)},
              {"passive", m->passive != 0},
              {"durable", m->durable != 0},
              {"exclusive", m->exclusive != 0},
              {"auto_delete", m->auto_delete != 0},
              {"arguments", arguments_json(m->arguments)}};
      break;
    }
    case AMQP_QUEUE_BIND_METHOD: {
      const auto* m = static_cast<const amqp_queue_bind_t*>(encoded.method());
      call = {{"method", "queue.bind"},
              {"queue", bytes(m->queue)},
              {"exchange", bytes(m->exchange)},
              {"routing_key", bytes(m->routing_key)},
              {"arguments", arguments_json(m->arguments)}};
      break;
    }
    case AMQP_BASIC_CONSUME_METHOD: {
      const auto* m = static_cast<const amqp_basic_consume_t*>(encoded.method());
      EXPECT_EQ(encoded.channel(), rmq::consumer_channel);
      // Client defaults upstream relies on: manual ack, server-assigned tag, not exclusive.
      EXPECT_EQ(m->no_ack, 0);
      EXPECT_EQ(m->exclusive, 0);
      EXPECT_EQ(m->no_local, 0);
      EXPECT_EQ(m->consumer_tag.len, 0u);
      call = {{"method", "basic.consume"}, {"queue", bytes(m->queue)}};
      break;
    }
    default:
      ADD_FAILURE() << "unexpected method " << encoded.method_id();
  }
  return call;
}

rmq::TopologySettings settings_of(const json::object& options) {
  rmq::TopologySettings settings;
  if (auto* v = options.if_contains("exchange_name")) settings.exchange_name = str(*v);
  if (auto* v = options.if_contains("routing_key_prefix")) settings.routing_key_prefix = str(*v);
  if (auto* v = options.if_contains("queue_name_prefix")) settings.queue_name_prefix = str(*v);
  if (auto* v = options.if_contains("queue_ttl"))
    settings.queue_ttl = v->is_null() ? 0 : json::value_to<double>(*v);
  if (auto* qos = options.if_contains("qos")) {
    settings.queue_prefetch_count = static_cast<int>(qos->at("queue_prefetch_count").as_int64());
    settings.global_prefetch_count = static_cast<int>(qos->at("global_prefetch_count").as_int64());
  }
  return settings;
}

std::vector<rmq::SubscriptionSpec> subscriptions_of(const json::array& handlers) {
  std::vector<rmq::SubscriptionSpec> out;
  std::uint32_t id = 0;
  for (const auto& h : handlers) {
    rmq::SubscriptionSpec s;
    s.routing_key = str(h.at("routing_key"));
    s.handler_name = str(h.at("function_name"));
    if (auto* v = h.as_object().if_contains("competing"); v && !v->is_null())
      s.competing = v->as_bool();
    if (auto* v = h.as_object().if_contains("queue_name"); v && !v->is_null())
      s.queue_name = str(*v);
    if (auto* v = h.as_object().if_contains("exchange_name"); v && !v->is_null())
      s.exchange_name = str(*v);
    s.consumer_id = ++id;
    out.push_back(s);
  }
  return out;
}

}  // namespace

TEST(AmqpTopology, SubscriptionCallsMatchEveryUpstreamCase) {
  const auto all = cases("subscription");
  ASSERT_EQ(all.size(), 24u);
  for (const auto& c : all) {
    SCOPED_TRACE(str(c.at("id")));
    const auto& input = c.at("input").as_object();
    const auto& expected = c.at("expected").as_object();
    const auto settings = settings_of(input.at("amqp_options").as_object());
    const auto subscriptions = subscriptions_of(input.at("handlers").as_array());
    const std::string uuid = str(input.at("service_uuid"));

    json::array queue_names;
    for (const auto& s : subscriptions)
      queue_names.push_back(json::string(rmq::queue_name_of(s, settings, uuid)));
    EXPECT_EQ(queue_names, expected.at("queue_names").as_array());

    // Execute the plan against a broker that answers declare-ok with the fixture's count.
    json::array calls;
    bool too_many_consumers = false;
    for (const auto& step : rmq::plan_subscriptions(subscriptions, settings, uuid)) {
      rmq::EncodedStep encoded(step);
      calls.push_back(call_of(encoded));
      if (const auto* declare = std::get_if<rmq::QueueDeclareStep>(&step)) {
        rmq::StepResult reply;
        reply.consumer_count =
            static_cast<std::uint32_t>(input.at("broker_reports_consumer_count").as_int64());
        try {
          rmq::check_declare_ok(*declare, reply);
        } catch (const tomodachi::AmqpTooManyConsumersException& error) {
          EXPECT_STREQ(error.what(), "Max consumers for this queue has been reached");
          too_many_consumers = true;
          break;
        }
      }
    }
    EXPECT_EQ(calls, expected.at("channel_calls").as_array());
    EXPECT_EQ(too_many_consumers, expected.contains("error"));
  }
}

TEST(AmqpTopology, PublishExchangeAndRoutingKeyMatchEveryUpstreamCase) {
  const auto all = cases("publish");
  ASSERT_EQ(all.size(), 9u);
  for (const auto& c : all) {
    SCOPED_TRACE(str(c.at("id")));
    const auto& input = c.at("input").as_object();
    const auto& expected = c.at("expected").as_object();
    const auto settings = settings_of(input.at("amqp_options").as_object());
    std::optional<std::string> prefix_override;
    const auto& argument = input.at("routing_key_prefix_argument");
    if (argument.is_null())
      prefix_override = "";
    else if (!amqp_fixture::is_unset(argument))
      prefix_override = str(argument);
    rmq::SubscriptionSpec publish_target;  // the exchange resolution is shared with subscriptions
    publish_target.exchange_name = str(input.at("exchange_name_argument"));
    EXPECT_EQ(rmq::exchange_of(publish_target, settings), str(expected.at("exchange")));
    EXPECT_EQ(rmq::wire_routing_key(str(input.at("routing_key")), settings.routing_key_prefix,
                                    prefix_override),
              str(expected.at("routing_key")));
    EXPECT_TRUE(expected.at("properties").as_object().empty());
    EXPECT_TRUE(expected.at("channel_calls_before_publish").as_array().empty());
  }
}

TEST(AmqpTopology, PublishPropertiesAreEmptyUnlessAsked) {
  rmq::EncodedProperties none{tomodachi::AmqpProperties{}};
  EXPECT_EQ(none.properties()._flags, 0u);
  tomodachi::AmqpProperties persistent;
  persistent.delivery_mode = 2;
  rmq::EncodedProperties encoded{persistent};
  EXPECT_EQ(encoded.properties()._flags, static_cast<amqp_flags_t>(AMQP_BASIC_DELIVERY_MODE_FLAG));
  EXPECT_EQ(encoded.properties().delivery_mode, 2);
}

TEST(AmqpTopology, HeadersRoundTripThroughFieldTables) {
  tomodachi::AmqpProperties properties;
  properties.headers = json::object{{"error", "boom"},
                                    {"attempts", 3},
                                    {"nested", json::object{{"ok", true}}},
                                    {"list", json::array{1, "two", nullptr}},
                                    {"ratio", 0.5}};
  properties.message_id = "id-1";
  rmq::EncodedProperties encoded{properties};
  EXPECT_EQ(rmq::decode_properties(encoded.properties()), properties);
}
