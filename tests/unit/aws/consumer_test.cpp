// The receive loop's behaviour against a scripted AwsApi: error logging and recovery, the
// re-setup of a vanished queue, batched deletes (FIFO: at once), a stop that cancels the
// long poll and a drain bounded by its deadline, dead-letter queue names and targets.

#include "aws/consumer.hpp"
#include "aws/http_client.hpp"
#include "aws/naming.hpp"
#include "aws/setup.hpp"
#include "fake_aws.hpp"
#include "peer_support.hpp"

#include <tomodachi/aws_sns_sqs.hpp>
#include <tomodachi/envelope.hpp>
#include <tomodachi/logging.hpp>
#include <tomodachi/transport/messaging.hpp>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include <gtest/gtest.h>

namespace aws = tomodachi::aws;
using namespace std::chrono_literals;

namespace {

/// A FakeAws whose ReceiveMessage answers come from a script; SendMessage to a queue that
/// does not exist fails as SQS does, and deletes can be made to hang.
class ScriptedAws : public aws_test::FakeAws {
 public:
  std::function<tomodachi::Task<std::vector<aws::ReceivedMessage>>(int call)> script;
  int receives = 0;
  int failed_sends = 0;
  bool deletes_hang = false;  ///< deletes wait for `deletes_released`
  tomodachi::core::Event deletes_released;

  tomodachi::Task<std::vector<aws::ReceivedMessage>> receive_message(
      aws::ReceiveMessageRequest request) override {
    co_await FakeAws::receive_message(request);  // recorded
    auto answer = script(++receives);
    co_return co_await std::move(answer);
  }

  tomodachi::Task<std::string> send_message(aws::SendMessageRequest request) override {
    if (!has_queue(request.queue_url.substr(request.queue_url.rfind('/') + 1))) {
      ++failed_sends;
      throw aws::AwsApiError("sqs", "SendMessage", 400, "AWS.SimpleQueueService.NonExistentQueue",
                             "The specified queue does not exist.");
    }
    co_return co_await FakeAws::send_message(std::move(request));
  }

  tomodachi::Task<void> delete_message(std::string url, std::string receipt_handle) override {
    co_await pause();
    co_await FakeAws::delete_message(std::move(url), std::move(receipt_handle));
  }

  tomodachi::Task<aws::BatchResult> delete_message_batch(
      std::string url, std::vector<std::string> handles) override {
    co_await pause();
    co_return co_await FakeAws::delete_message_batch(std::move(url), std::move(handles));
  }

 private:
  tomodachi::Task<void> pause() {
    if (deletes_hang) co_await deletes_released.wait();
  }
};

std::string body_for(int n) {
  return R"({"Type": "Message", "Message": "{\"service\": {}, \"metadata\": {\"message_uuid\": \"u.)" +
         std::to_string(n) + R"(\", \"data_encoding\": \"raw\"}, \"data\": )" + std::to_string(n) +
         "}\"}";
}

aws::ReceivedMessage message(int n) {
  return aws::ReceivedMessage{"id-" + std::to_string(n),
                              "rh-" + std::to_string(n),
                              body_for(n),
                              {{"ApproximateReceiveCount", "1"}},
                              std::nullopt};
}

aws::ReceivedMessage unparsable(int n) {
  return aws::ReceivedMessage{"id-" + std::to_string(n),
                              "rh-" + std::to_string(n),
                              "not json " + std::to_string(n),
                              {{"ApproximateReceiveCount", "1"}},
                              std::nullopt};
}

aws::SubscribedQueue subscribed_queue(const std::string& name) {
  aws::SubscribedQueue queue;
  queue.queue_name = name;
  queue.queue_url = aws_test::FakeAws::queue_url(name);
  queue.queue_arn = aws_test::FakeAws::queue_arn(name);
  queue.fifo = name.ends_with(".fifo");
  queue.visibility_timeout = 30;
  return queue;
}

struct Harness {
  using Tweak = std::function<void(tomodachi::SubscriptionConfig&, aws::ConsumerConfig&)>;

  boost::asio::io_context io;
  ScriptedAws fake;
  aws::AwsResources resources{fake, {}, tomodachi::Logger("tomodachi.awssnssqs")};
  std::vector<int> handled;
  std::vector<std::string> logs;
  int sink = tomodachi::add_log_sink([this](const tomodachi::LogRecord& record) {
    if (record.message) logs.emplace_back(*record.message);
  });
  std::shared_ptr<aws::Consumer> consumer;
  int resubscribed = 0;
  tomodachi::DuplicateRegistry duplicates;  // per test: the messages reuse uuids

  explicit Harness(const Tweak& tweak = {}) {
    tomodachi::SubscriptionConfig config;
    config.handler_name = "handler";
    config.transport = "aws_sns_sqs";
    config.envelope = tomodachi::json_base();
    config.duplicates = &duplicates;
    config.handler = [this](tomodachi::Message& m) -> tomodachi::Task<void> {
      handled.push_back(static_cast<int>(m.data().as_int64()));
      co_return;
    };
    aws::ConsumerConfig consumer_config;
    consumer_config.handler_name = "handler";
    consumer_config.queue = subscribed_queue("q");
    consumer_config.delete_delay = 10ms;
    if (tweak) tweak(config, consumer_config);
    fake.add_queue(consumer_config.queue.queue_name);
    const auto queue = consumer_config.queue;
    consumer = std::make_shared<aws::Consumer>(
        io.get_executor(), resources,
        std::make_shared<const tomodachi::MessageDispatcher>(std::move(config)), consumer_config,
        [this, queue]() -> tomodachi::Task<aws::SubscribedQueue> {
          ++resubscribed;
          co_return queue;
        },
        std::nullopt);
  }
  ~Harness() { tomodachi::remove_log_sink(sink); }

  bool logged(std::string_view prefix) const {
    return std::any_of(logs.begin(), logs.end(),
                       [&](const std::string& text) { return text.starts_with(prefix); });
  }

  /// Runs the loop until `done`, then stops it and waits for it to end.
  void run_until(const std::function<bool()>& done, std::chrono::seconds timeout = 10s) {
    run_loop_until(done, timeout);
    aws_test::run(io, consumer->drain(std::chrono::steady_clock::now() + 5s));
  }

  /// The same without the drain.
  void run_loop_until(const std::function<bool()>& done, std::chrono::seconds timeout = 10s) {
    bool finished = false;
    boost::asio::co_spawn(io, consumer->run(), [&](std::exception_ptr) { finished = true; });
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done() && std::chrono::steady_clock::now() < deadline) io.run_one_for(20ms);
    consumer->request_stop();
    while (!finished && std::chrono::steady_clock::now() < deadline + 5s) io.run_one_for(20ms);
    EXPECT_TRUE(finished) << "the loop did not end after request_stop";
  }

  std::vector<boost::json::object> sends_to(const std::string& queue) const {
    std::vector<boost::json::object> result;
    for (auto& call : fake.calls_of("SendMessage")) {
      if (call.at("QueueUrl") == boost::json::value(aws_test::FakeAws::queue_url(queue)))
        result.push_back(call);
    }
    return result;
  }
};

tomodachi::Task<std::vector<aws::ReceivedMessage>> answer(
    std::vector<aws::ReceivedMessage> messages) {
  co_return messages;
}

/// A poll that only a stop (cancellation) ends.
tomodachi::Task<std::vector<aws::ReceivedMessage>> long_poll() {
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, 24h);
  co_await timer.async_wait(boost::asio::use_awaitable);
  co_return std::vector<aws::ReceivedMessage>{};
}

tomodachi::Task<std::vector<aws::ReceivedMessage>> fail_with(std::exception_ptr error) {
  std::rethrow_exception(error);
  co_return std::vector<aws::ReceivedMessage>{};
}

}  // namespace

TEST(Consumer, ReceiveErrorsAreLoggedOnceAndRecovered) {
  aws_test::VirtualSleeps sleeps;
  Harness h([&](tomodachi::SubscriptionConfig&, aws::ConsumerConfig& config) {
    config.sleep = sleeps.function();
  });
  h.fake.script = [](int call) {
    if (call <= 2) {
      return fail_with(std::make_exception_ptr(
          aws::AwsApiError("sqs", "ReceiveMessage", 500, "InternalError", "boom")));
    }
    if (call == 3) return answer({message(1)});
    return long_poll();
  };
  h.run_until([&] { return !h.handled.empty(); }, 15s);
  EXPECT_EQ(h.handled, std::vector<int>{1});
  EXPECT_EQ(std::count_if(h.logs.begin(), h.logs.end(),
                          [](const std::string& t) {
                            return t.starts_with("Unable to receive message from queue [sqs]");
                          }),
            1);
  EXPECT_TRUE(h.logged("Reconnected - receiving messages"));
  EXPECT_EQ(h.fake.deleted_receipt_handles, std::vector<std::string>{"rh-1"});
  // A backoff of 1 s after the first failure, 2 s after the second (on virtual time; then
  // the batch window after the partial batch).
  ASSERT_GE(sleeps.delays().size(), 2u);
  EXPECT_EQ(sleeps.delays()[0], 1s);
  EXPECT_EQ(sleeps.delays()[1], 2s);
}

TEST(Consumer, MissingQueueIsSetUpAgain) {
  Harness h;
  h.fake.script = [](int call) {
    if (call == 1) {
      return fail_with(std::make_exception_ptr(aws::AwsApiError(
          "sqs", "ReceiveMessage", 400, "AWS.SimpleQueueService.NonExistentQueue", "gone")));
    }
    if (call == 2) return answer({message(7)});
    return long_poll();
  };
  h.run_until([&] { return !h.handled.empty(); });
  EXPECT_EQ(h.resubscribed, 1);
  EXPECT_TRUE(h.logged("Recreated the SNS/SQS subscription of the missing queue [sqs]"));
  EXPECT_EQ(h.handled, std::vector<int>{7});
}

TEST(Consumer, DeletesAreBatched) {
  Harness h;
  h.fake.script = [](int call) {
    if (call == 1) {
      std::vector<aws::ReceivedMessage> batch;
      for (int i = 0; i < 10; ++i) batch.push_back(message(i));
      return answer(batch);
    }
    if (call == 2) return answer({message(10), message(11)});
    return long_poll();
  };
  h.run_until(
      [&] { return h.handled.size() == 12 && h.fake.deleted_receipt_handles.size() == 12; });
  const auto batches = h.fake.calls_of("DeleteMessageBatch");
  ASSERT_EQ(batches.size(), 2u);
  EXPECT_EQ(batches[0].at("Entries").as_array().size(), 10u);
  EXPECT_EQ(batches[1].at("Entries").as_array().size(), 2u);
  EXPECT_TRUE(h.fake.calls_of("DeleteMessage").empty());
}

TEST(Consumer, StopCancelsTheLongPoll) {
  Harness h;
  h.fake.script = [](int) { return long_poll(); };
  // The poll never ends by itself: run_until fails unless the stop cancels it.
  h.run_until([&] { return h.fake.receives == 1; });
}

TEST(Consumer, UnsupportedBodiesAreDeadLettered) {
  Harness h;
  h.fake.script = [](int call) {
    if (call == 1) return answer({aws::ReceivedMessage{"x", "rh-x", "not json", {}, std::nullopt}});
    return long_poll();
  };
  h.run_until([&] { return !h.fake.deleted_receipt_handles.empty(); });
  const auto sent = h.fake.calls_of("SendMessage");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].at("QueueUrl"), boost::json::value(aws_test::FakeAws::queue_url("q-dlq")));
  EXPECT_EQ(sent[0].at("MessageBody"), "not json");
  EXPECT_EQ(sent[0].at("MessageAttributes").at("x-tomodachi-error-type").at("StringValue"),
            "UnsupportedMessageBody");
  EXPECT_EQ(h.fake.queue_attributes("q-dlq").at("MessageRetentionPeriod"), "1209600");
  EXPECT_EQ(h.fake.deleted_receipt_handles, std::vector<std::string>{"rh-x"});
}

TEST(Consumer, DeadLetterQueueNames) {
  EXPECT_EQ(aws::sqs_dead_letter_queue_name("orders"), "orders-dlq");
  EXPECT_EQ(aws::sqs_dead_letter_queue_name("orders.fifo"), "orders-dlq.fifo");
  // Hashed queue names behind a prefix longer than 12 (standard) / 7 (FIFO) characters:
  // `<queue>-dlq` would exceed SQS's 80 characters; the name is cut and keeps a digest.
  for (const std::string prefix :
       {"", "team-", "prefix-of-12", "prefix-of-13-", "a-16-char-prefix"}) {
    for (const bool fifo : {false, true}) {
      const auto source = aws::hashed_queue_name("orders", "handler", "uuid", true, prefix, fifo);
      const auto other = aws::hashed_queue_name("orders", "handler", "uuid-2", false, prefix, fifo);
      const auto dlq = aws::sqs_dead_letter_queue_name(source);
      SCOPED_TRACE(dlq);
      EXPECT_NO_THROW(aws::validate_queue_name(dlq));
      EXPECT_LE(dlq.size(), 80u);
      EXPECT_TRUE(dlq.starts_with(prefix));
      EXPECT_TRUE(dlq.ends_with(fifo ? "-dlq.fifo" : "-dlq"));
      EXPECT_EQ(dlq,
                aws::sqs_dead_letter_queue_name(source));  // every instance finds the same queue
      EXPECT_NE(dlq, aws::sqs_dead_letter_queue_name(other));
      if (source.size() + 4 <= 80) {
        EXPECT_EQ(dlq,
                  source.substr(0, source.size() - (fifo ? 5 : 0)) + (fifo ? "-dlq.fifo" : "-dlq"));
      }
    }
  }
}

TEST(Consumer, InvalidDeadLetterQueueNamesFailTheStart) {
  const auto start_failure = [](std::optional<std::string> dlq, bool fifo,
                                const std::string& prefix = "") -> std::string {
    aws::SubscriptionRequest request{"handler", "uuid", fifo ? "orders.fifo" : "orders", {}};
    request.options.fifo = fifo;
    request.options.delivery.dead_letter_queue = std::move(dlq);
    try {
      aws::validate_subscription(request, prefix);
    } catch (const tomodachi::AwsSnsSqsException& error) {
      return error.what();
    }
    return "";
  };
  EXPECT_EQ(start_failure("orders-dead", false), "");
  EXPECT_EQ(start_failure("orders-dead.fifo", true), "");
  EXPECT_EQ(start_failure(std::nullopt, true), "");
  EXPECT_EQ(start_failure("orders.dlq", false),
            "Invalid dead-letter queue (delivery.dead_letter_queue 'orders.dlq'): Queue name "
            "(orders.dlq) may only "
            "contain alphanumeric characters, hyphens (-), and underscores (_).");
  EXPECT_NE(start_failure("orders-dead", true).find("FIFO queue must be a FIFO queue"),
            std::string::npos);
  EXPECT_NE(
      start_failure("orders-dead.fifo", false).find("Standard queue must be a Standard queue"),
      std::string::npos);
  EXPECT_NE(start_failure(std::string(70, 'd'), false, "a-long-prefix-").find("is too long"),
            std::string::npos);
}

TEST(Consumer, QueueNameOfTheWrongTypeFailsTheStartNamingHandlerAndQueue) {
  const auto start_failure = [](std::string queue_name, bool fifo) -> std::string {
    aws::SubscriptionRequest request{"on_order", "uuid", "orders", {}};
    request.options.queue_name = std::move(queue_name);
    request.options.fifo = fifo;
    try {
      aws::validate_subscription(request, "prefix-");
    } catch (const tomodachi::AwsSnsSqsException& error) {
      return error.what();
    }
    return "";
  };
  EXPECT_EQ(start_failure("orders.fifo", true), "");
  EXPECT_EQ(start_failure("orders", false), "");
  EXPECT_EQ(start_failure("orders", true),
            "AWS SQS queue configured as Standard, but the handler expected FIFO. Handler "
            "\"on_order\": queue_name \"orders\" of a FIFO subscription must end with \".fifo\".");
  EXPECT_EQ(start_failure("orders.fifo", false),
            "AWS SQS queue configured as FIFO, but the handler expected Standard. Handler "
            "\"on_order\": queue_name \"orders.fifo\" of a Standard subscription must not end "
            "with \".fifo\" (a FIFO queue needs fifo = true).");
  // An ARN's queue name is checked the same way, before any AWS request.
  EXPECT_NE(start_failure("arn:aws:sqs:eu-west-1:123456789012:orders", true)
                .find("queue_name \"arn:aws:sqs:eu-west-1:123456789012:orders\" of a FIFO "
                      "subscription must end with \".fifo\""),
            std::string::npos);
  EXPECT_EQ(start_failure("arn:aws:sqs:eu-west-1:123456789012:orders.fifo", true), "");
}

TEST(Consumer, FifoDeletesBeforeTheNextReceive) {
  // A FIFO group stays locked until its message is deleted: no delete batching window.
  Harness h([](tomodachi::SubscriptionConfig&, aws::ConsumerConfig& config) {
    config.queue = subscribed_queue("q.fifo");
    config.delete_delay = 10s;
  });
  std::vector<std::string> deleted_at_second_receive;
  h.fake.script = [&](int call) {
    if (call == 1) return answer({message(1)});
    if (call == 2) deleted_at_second_receive = h.fake.deleted_receipt_handles;
    if (call == 2) return answer({message(2)});
    return long_poll();
  };
  h.run_until([&] { return h.fake.receives >= 3; });
  EXPECT_EQ(deleted_at_second_receive, std::vector<std::string>{"rh-1"});
  EXPECT_EQ(h.handled, (std::vector<int>{1, 2}));
  EXPECT_EQ(h.fake.calls_of("ReceiveMessage").front().at("MaxNumberOfMessages"), 1);
}

TEST(Consumer, DrainEndsAtTheDeadlineWhileDeletesHang) {
  Harness h([](tomodachi::SubscriptionConfig&, aws::ConsumerConfig& config) {
    config.delete_delay = 10s;
  });
  h.fake.deletes_hang = true;  // e.g. an endpoint that stopped answering
  h.fake.script = [](int call) {
    if (call == 1) return answer({message(1)});
    return long_poll();
  };
  h.run_loop_until([&] { return !h.handled.empty(); });
  // The delete hangs until released: only the deadline can end the drain.
  const auto deadline = std::chrono::steady_clock::now() + 200ms;
  const bool drained = aws_test::run(h.io, h.consumer->drain(deadline));
  EXPECT_FALSE(drained);  // the pending delete did not finish
  EXPECT_TRUE(h.fake.deleted_receipt_handles.empty());
  h.fake.deletes_released.set();  // the delete goes through after all
  h.io.restart();
  const auto limit = std::chrono::steady_clock::now() + 10s;
  while (h.fake.deleted_receipt_handles.empty() && std::chrono::steady_clock::now() < limit)
    h.io.run_one_for(20ms);
  EXPECT_EQ(h.fake.deleted_receipt_handles, std::vector<std::string>{"rh-1"});
}

TEST(Consumer, AVanishedDeadLetterQueueIsCreatedAgain) {
  Harness h;
  h.fake.script = [&](int call) {
    if (call == 1) return answer({unparsable(1)});
    if (call == 2) {
      h.fake.remove_queue("q-dlq");  // e.g. deleted by hand: the cached URL is stale
      return answer({unparsable(2)});
    }
    return long_poll();
  };
  h.run_until([&] { return h.fake.deleted_receipt_handles.size() >= 2; });
  EXPECT_EQ(h.fake.deleted_receipt_handles, (std::vector<std::string>{"rh-1", "rh-2"}));
  EXPECT_EQ(h.sends_to("q-dlq").size(), 2u);
  EXPECT_EQ(h.fake.failed_sends, 1);
  EXPECT_EQ(h.fake.calls_of("CreateQueue").size(), 2u);
  EXPECT_TRUE(h.fake.has_queue("q-dlq"));
}

TEST(Consumer, RecoveryForgetsTheDeadLetterQueues) {
  Harness h;
  h.fake.script = [&](int call) {
    if (call == 1) return answer({unparsable(1)});
    if (call == 2) {
      h.fake.remove_queue("q-dlq");  // the endpoint lost its state
      return fail_with(std::make_exception_ptr(aws::AwsApiError(
          "sqs", "ReceiveMessage", 400, "AWS.SimpleQueueService.NonExistentQueue", "gone")));
    }
    if (call == 3) return answer({unparsable(2)});
    return long_poll();
  };
  h.run_until([&] { return h.fake.deleted_receipt_handles.size() >= 2; }, 15s);
  EXPECT_EQ(h.resubscribed, 1);
  EXPECT_EQ(h.sends_to("q-dlq").size(), 2u);
  EXPECT_EQ(h.fake.failed_sends, 0);  // not even one send to the stale URL
}

TEST(Consumer, AMissingReceiptHandleIsNotDeleted) {
  Harness h;
  h.fake.script = [](int call) {
    if (call == 1) {
      auto without_handle = message(1);
      without_handle.receipt_handle.clear();
      return answer({without_handle, message(2)});
    }
    return long_poll();
  };
  h.run_until([&] { return h.handled.size() == 2 && !h.fake.deleted_receipt_handles.empty(); });
  EXPECT_EQ(h.fake.deleted_receipt_handles, std::vector<std::string>{"rh-2"});
  EXPECT_TRUE(h.logged("Unable to delete message [sqs] on AWS (missing receipt handle)"));
}

TEST(Consumer, WithARedrivePolicyDeadLettersGoToItsTargetAtOnce) {
  // SQS would move the message only after maxReceiveCount receives: the client sends it
  // to the RedrivePolicy's target itself, after max_attempts deliveries.
  Harness h([](tomodachi::SubscriptionConfig& config, aws::ConsumerConfig& consumer) {
    consumer.queue.dead_letter_target_arn = aws_test::FakeAws::queue_arn("redrive-target");
    config.delivery.max_attempts = 2;
    config.handler = [](tomodachi::Message&) -> tomodachi::Task<void> {
      throw std::runtime_error("handler failure");
      co_return;
    };
  });
  h.fake.add_queue("redrive-target");
  h.fake.script = [](int call) {
    if (call == 1) return answer({unparsable(1)});
    if (call == 2) {
      auto failing = message(2);
      failing.attributes["ApproximateReceiveCount"] = "2";  // the last of max_attempts
      return answer({failing});
    }
    return long_poll();
  };
  h.run_until([&] { return h.fake.deleted_receipt_handles.size() >= 2; });
  const auto sent = h.sends_to("redrive-target");
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].at("MessageBody"), "not json 1");
  EXPECT_EQ(sent[0].at("MessageAttributes").at("x-tomodachi-error-type").at("StringValue"),
            "UnsupportedMessageBody");
  EXPECT_EQ(sent[1].at("MessageAttributes").at("x-tomodachi-error").at("StringValue"),
            "handler failure");
  EXPECT_EQ(sent[1].at("MessageAttributes").at("x-tomodachi-attempts").at("StringValue"), "2");
  EXPECT_EQ(h.fake.deleted_receipt_handles, (std::vector<std::string>{"rh-1", "rh-2"}));
  EXPECT_TRUE(h.fake.visibility_changes.empty());
  EXPECT_FALSE(h.fake.has_queue("q-dlq"));
}

TEST(Setup, AnExistingRedrivePolicyIsTheDeadLetterTarget) {
  // A RedrivePolicy made by terraform (the subscription sets none) counts as redrive.
  boost::asio::io_context io;
  aws_test::FakeAws fake;
  aws::AwsResources resources{fake, {}, tomodachi::Logger("tomodachi.awssnssqs")};
  const auto target = aws_test::FakeAws::queue_arn("orders-terraform-dlq");
  fake.add_queue("orders", {{"RedrivePolicy", R"({"deadLetterTargetArn":")" + target +
                                                  R"(","maxReceiveCount":"5"})"}});
  fake.add_queue("plain");
  aws::SubscriptionRequest request{"handler", "uuid", "", {}};
  request.options.queue_name = "orders";
  EXPECT_EQ(aws_test::run(io, resources.subscribe(request)).dead_letter_target_arn, target);
  request.options.queue_name = "plain";
  EXPECT_EQ(aws_test::run(io, resources.subscribe(request)).dead_letter_target_arn, "");
  // Set by the subscription.
  request.options.queue_name = "orders";
  request.options.dead_letter_queue_name = "orders-dead";
  request.options.max_receive_count = 3;
  EXPECT_EQ(aws_test::run(io, resources.subscribe(request)).dead_letter_target_arn,
            aws_test::FakeAws::queue_arn("orders-dead"));
  // Removed by the subscription.
  request.options.dead_letter_queue_name = "";
  request.options.max_receive_count.reset();
  EXPECT_EQ(aws_test::run(io, resources.subscribe(request)).dead_letter_target_arn, "");
}
