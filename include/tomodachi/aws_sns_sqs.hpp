#pragma once
/// @file
/// AWS SNS + SQS transport: `aws_sns_sqs<&Svc::handler>(topic, {...})` subscriptions (an
/// SQS queue subscribed to an SNS topic), `aws_sns_sqs_publish(service, data, topic, {...})`
/// and `sqs_send_message(service, data, queue, {...})`, wire-compatible with Python
/// tomodachi (spec/wire.md §3): same topic and queue names, queue policies, subscription
/// shape, message bodies and attribute typing. Beyond upstream: at-least-once delivery
/// with client-side dead-lettering by default, visibility extension for slow handlers,
/// batched deletes, graceful drain bounded by the stop deadline. See docs/aws_sns_sqs.md.
///
/// ```cpp
/// class Orders : public tomodachi::Service {
///  public:
///   Orders() : Service("orders") {
///     message_envelope = tomodachi::json_base();
///     aws_sns_sqs<&Orders::on_order>("order-created", {.competing = true});
///   }
///   tomodachi::Task<void> on_order(tomodachi::Message& message) {
///     tomodachi::MessageAttributes attributes{{"currency", "SEK"}};
///     co_await tomodachi::aws_sns_sqs_publish(*this, message.data(), "order-accepted",
///                                             {.message_attributes = &attributes});
///   }
/// };
/// ```

#include <tomodachi/delivery.hpp>
#include <tomodachi/detail/bind_member.hpp>
#include <tomodachi/detail/gcc12_publish.hpp>
#include <tomodachi/detail/message_handler_spec.hpp>
#include <tomodachi/envelope.hpp>
#include <tomodachi/error.hpp>
#include <tomodachi/message_attributes.hpp>
#include <tomodachi/service.hpp>
#include <tomodachi/task.hpp>

#include <boost/json/value.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace tomodachi {

// ---- Subscribing -------------------------------------------------------------------------

/// Options of an `aws_sns_sqs(...)` registration (Python's decorator keywords).
struct AwsSnsSqsOptions {
  /// Competing consumers share one queue (`sha256(topic)`); non-competing instances get a
  /// queue each (`sha256(topic + handler + service uuid)`). Unset: competing with an
  /// explicit `queue_name`, otherwise non-competing (upstream's code behaviour).
  std::optional<bool> competing;
  /// Explicit queue: a name (option `aws_sns_sqs.queue_name_prefix` is prepended; FIFO
  /// names must end in `.fifo`) or the ARN of an existing queue.
  std::optional<std::string> queue_name;
  /// SNS subscription filter policy: unset = leave the subscription as it is; a JSON
  /// object = that policy; a JSON string = policy text (parsed and re-serialized); JSON
  /// null = no filtering (`{}`).
  std::optional<boost::json::value> filter_policy;
  /// Queue VisibilityTimeout in seconds (0..43200); unset = leave the queue's value.
  std::optional<int> visibility_timeout;
  /// SQS redrive: both set = RedrivePolicy to this dead-letter queue (a name, created
  /// with 14 days retention, or an existing queue's ARN) after `max_receive_count`
  /// receives; `dead_letter_queue_name = ""` without a count = remove the RedrivePolicy;
  /// both unset = leave it as it is.
  std::optional<std::string> dead_letter_queue_name;
  std::optional<int> max_receive_count;
  /// FIFO topic and queue (`.fifo`); messages are consumed one at a time in order.
  bool fifo = false;
  /// Messages per ReceiveMessage and handler concurrency (1..10; default 10; FIFO: 1).
  std::optional<int> max_number_of_consumed_messages;
  /// Envelope override: unset = the service's `message_envelope`; `no_envelope` = raw.
  EnvelopeOverride message_envelope;
  /// What happens after the handler: at-least-once with retries and dead-lettering
  /// (default), or `DeliveryPolicy::tomodachi()` for upstream's exact outcomes.
  DeliveryPolicy delivery = DeliveryPolicy::at_least_once();
  /// While a handler runs longer than half the queue's visibility timeout, extend the
  /// message's visibility so no other consumer receives it meanwhile.
  bool extend_visibility = true;
};

/// The registration record of one SNS/SQS subscription (`pattern` is the topic; "" for
/// a queue without a topic).
struct AwsSnsSqsHandlerSpec : MessageHandlerSpec {
  /// The transport's identity: `HandlerSpec::transport` of its registrations.
  static constexpr std::string_view kind = "aws_sns_sqs";
  using MessageHandlerSpec::MessageHandlerSpec;
  AwsSnsSqsOptions options;
};

// ---- Publishing ------------------------------------------------------------------------

/// Options of `aws_sns_sqs_publish`. Every member is trivially destructible on purpose:
/// GCC 12 miscompiles aggregate temporaries with non-trivial destructors inside `co_await`
/// expressions. Pointed-to values are only read during the call (copied when `wait` is
/// false).
struct AwsSnsSqsPublishOptions {
  /// Unset = option `aws_sns_sqs.topic_prefix`; "" = no prefix.
  std::optional<std::string_view> topic_prefix;
  /// Unset = the service's `message_envelope`; `tomodachi::no_envelope` = raw mode; else
  /// that envelope (e.g. `tomodachi::json_base()`), kept alive by the caller during the call.
  EnvelopeRef message_envelope;
  /// Message attributes (the envelope may add some).
  const MessageAttributes* message_attributes = nullptr;
  /// Attributes for CreateTopic when the topic does not exist yet.
  const std::map<std::string, std::string>* topic_attributes = nullptr;
  /// Overwrite differing attributes of an existing topic (default: warn and keep them).
  bool overwrite_topic_attributes = false;
  /// FIFO: set `group_id` to publish to `<topic>.fifo`; the deduplication id defaults to a uuid4.
  std::optional<std::string_view> group_id;
  std::optional<std::string_view> deduplication_id;
  /// true: return the SNS MessageId when published; false: return "" at once, publish in
  /// the background (a failure is logged).
  bool wait = true;
};
static_assert(std::is_trivially_destructible_v<AwsSnsSqsPublishOptions>);

/// Publishes `data`, wrapped by the envelope in effect, to SNS topic `topic` (looked up,
/// created when missing). Returns the SNS MessageId. Throws AwsSnsSqsException after 3
/// failed attempts, tomodachi::ArgumentError for an invalid topic name, EnvelopeError when
/// the data does not suit the envelope.
Task<std::string> aws_sns_sqs_publish(const Service& service, PublishData data,
                                      std::string_view topic, AwsSnsSqsPublishOptions options = {});

/// What a custom SQS body formatter receives.
struct SqsBodyContext {
  const Service& service;
  const PublishData& data;
  const MessageAttributes& message_attributes;
  std::string_view queue_name;  ///< as given to sqs_send_message
  std::string_view queue_url;
  const Envelope* envelope;  ///< null in raw mode
};
/// Builds the SQS MessageBody (Python's `message_body_formatter`).
using SqsBodyFormatter = std::string (*)(const SqsBodyContext& context);

/// Options of `sqs_send_message` (trivially destructible, see AwsSnsSqsPublishOptions).
struct SqsSendMessageOptions {
  /// Unset = option `aws_sns_sqs.queue_name_prefix`; "" = no prefix. Not applied to ARNs and URLs.
  std::optional<std::string_view> queue_name_prefix;
  /// As in AwsSnsSqsPublishOptions.
  EnvelopeRef message_envelope;
  const MessageAttributes* message_attributes = nullptr;
  /// FIFO queues (`.fifo`): required group id; the deduplication id defaults to a uuid4.
  std::optional<std::string_view> group_id;
  std::optional<std::string_view> deduplication_id;
  std::optional<int> delay_seconds;
  /// true (default): the body is tomodachi's `{"Type": "Message", ..., "Message": <envelope
  /// payload>, ...}`; false: the body is `data` itself (a string), no envelope (Python's
  /// `message_body_formatter=None`).
  bool tomodachi_body = true;
  /// Custom body (overrides `tomodachi_body`).
  SqsBodyFormatter body_formatter = nullptr;
  bool wait = true;
};
static_assert(std::is_trivially_destructible_v<SqsSendMessageOptions>);

/// Sends `data` straight to an SQS queue given by name, ARN or URL. Returns the SQS
/// MessageId. Throws QueueDoesNotExistError for a missing queue, tomodachi::ArgumentError for
/// a bad name or FIFO arguments, AwsSnsSqsException when SQS keeps failing.
Task<std::string> sqs_send_message(const Service& service, PublishData data, std::string_view queue,
                                   SqsSendMessageOptions options = {});

namespace detail {

/// The strings a publish option set views, owned (the GCC 12 macros, gcc12_publish.hpp).
struct OwnedPublishStrings {
  std::string target;  ///< topic or queue
  std::optional<std::string> prefix, group_id, deduplication_id;
  static std::optional<std::string> copy(const std::optional<std::string_view>& view) {
    return view ? std::optional<std::string>(std::string(*view)) : std::nullopt;
  }
  static std::optional<std::string_view> view(const std::optional<std::string>& text) {
    return text ? std::optional<std::string_view>(*text) : std::nullopt;
  }
};

/// The publish call of `Publish` (aws_sns_sqs_publish or sqs_send_message) with the
/// option strings pointed at `strings`, which the coroutine frame owns.
template <typename Options, auto Prefix, auto Publish>
Task<std::string> publish_owned(const Service& service, PublishData data,
                                OwnedPublishStrings strings, Options options) {
  options.*Prefix = OwnedPublishStrings::view(strings.prefix);
  options.group_id = OwnedPublishStrings::view(strings.group_id);
  options.deduplication_id = OwnedPublishStrings::view(strings.deduplication_id);
  std::string id = co_await Publish(service, std::move(data), strings.target, options);
  co_return id;
}

template <typename Options, auto Prefix, auto Publish>
Task<std::string> publish_owning(const Service& service, PublishData data, std::string_view target,
                                 const Options& options) {
  OwnedPublishStrings strings{std::string(target), OwnedPublishStrings::copy(options.*Prefix),
                              OwnedPublishStrings::copy(options.group_id),
                              OwnedPublishStrings::copy(options.deduplication_id)};
  return publish_owned<Options, Prefix, Publish>(service, std::move(data), std::move(strings),
                                                 options);
}

inline Task<std::string> aws_sns_sqs_publish_owning(const Service& service, PublishData data,
                                                    std::string_view topic,
                                                    AwsSnsSqsPublishOptions options = {}) {
  return publish_owning<AwsSnsSqsPublishOptions, &AwsSnsSqsPublishOptions::topic_prefix,
                        &aws_sns_sqs_publish>(service, std::move(data), topic, options);
}

inline Task<std::string> sqs_send_message_owning(const Service& service, PublishData data,
                                                 std::string_view queue,
                                                 SqsSendMessageOptions options = {}) {
  return publish_owning<SqsSendMessageOptions, &SqsSendMessageOptions::queue_name_prefix,
                        &sqs_send_message>(service, std::move(data), queue, options);
}

}  // namespace detail

// ---- Errors (the names of Python tomodachi's exceptions) ------------------------------------

/// Base of the SNS/SQS transport errors.
class AwsSnsSqsException : public Error {
 public:
  using Error::Error;
};
/// Missing region or credentials (`Invalid credentials [sns] to AWS (...)`).
class AwsSnsSqsConnectionException : public AwsSnsSqsException {
 public:
  using AwsSnsSqsException::AwsSnsSqsException;
};
/// `sqs_send_message` to a queue that does not exist.
class QueueDoesNotExistError : public AwsSnsSqsException {
 public:
  using AwsSnsSqsException::AwsSnsSqsException;
};

// ---- Service::aws_sns_sqs ----------------------------------------------------------------

template <typename Handler>
void Service::aws_sns_sqs(std::string_view topic, std::string name, Handler&& handler,
                          const AwsSnsSqsOptions& options) {
  auto spec = std::make_unique<AwsSnsSqsHandlerSpec>(std::string(AwsSnsSqsHandlerSpec::kind),
                                                     std::move(name));
  spec->pattern = std::string(topic);
  spec->handler = MessageHandler(std::forward<Handler>(handler));
  spec->message_envelope = options.message_envelope;
  spec->delivery = options.delivery;
  spec->queue_name = options.queue_name;
  spec->competing = options.competing;
  spec->options = options;
  add_handler(std::move(spec));
}

template <auto Fn>
void Service::aws_sns_sqs(std::string_view topic, const AwsSnsSqsOptions& options) {
  if constexpr (detail::check_service_member<Fn>()) {
    constexpr bool ok = std::is_invocable_r_v<Task<void>, detail::bound_member_t<Fn>&, Message&>;
    static_assert(ok,
                  "tomodachi: an aws_sns_sqs handler must be `tomodachi::Task<void> "
                  "fn(tomodachi::Message&)`");
    if constexpr (ok) {
      aws_sns_sqs(topic, std::string(detail::handler_name<Fn>()),
                  MessageHandler(detail::bind_member<Fn>(*this)), options);
    }
  }
}

}  // namespace tomodachi

// GCC 12: `co_await tomodachi::aws_sns_sqs_publish(*this, boost::json::object{{"k", "v"}},
// "topic")` and the same with sqs_send_message compile (detail/gcc12_publish.hpp).
#if TOMODACHI_GCC12_PUBLISH_WORKAROUND
#define aws_sns_sqs_publish(...)                                         \
  aws_sns_sqs_publish_gcc12(::tomodachi::Gcc12Call{}, [&]() {            \
    return ::tomodachi::detail::aws_sns_sqs_publish_owning(__VA_ARGS__); \
  })
#define sqs_send_message(...)                                         \
  sqs_send_message_gcc12(::tomodachi::Gcc12Call{}, [&]() {            \
    return ::tomodachi::detail::sqs_send_message_owning(__VA_ARGS__); \
  })
#endif
