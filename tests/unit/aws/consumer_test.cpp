// The receive loop's behaviour against a scripted AwsApi: error logging and recovery, the
// re-setup of a vanished queue, batched deletes, and a stop that cancels the long poll.

#include "aws/consumer.hpp"
#include "aws/http_client.hpp"
#include "fake_aws.hpp"
#include "peer_support.hpp"

#include <tomodachi/envelope.hpp>
#include <tomodachi/logging.hpp>
#include <tomodachi/messaging.hpp>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include <gtest/gtest.h>

namespace aws = tomodachi::aws;
using namespace std::chrono_literals;

namespace {

/// A FakeAws whose ReceiveMessage answers come from a script.
class ScriptedAws : public aws_test::FakeAws {
 public:
  std::function<tomodachi::Task<std::vector<aws::ReceivedMessage>>(int call)> script;
  int receives = 0;

  tomodachi::Task<std::vector<aws::ReceivedMessage>> receive_message(aws::ReceiveMessageRequest request) override {
    co_await FakeAws::receive_message(request);  // recorded
    auto answer = script(++receives);
    co_return co_await std::move(answer);
  }
};

std::string body_for(int n) {
  return R"({"Type": "Message", "Message": "{\"service\": {}, \"metadata\": {\"message_uuid\": \"u.)" + std::to_string(n) +
         R"(\", \"data_encoding\": \"raw\"}, \"data\": )" + std::to_string(n) + "}\"}";
}

aws::ReceivedMessage message(int n) {
  return aws::ReceivedMessage{"id-" + std::to_string(n), "rh-" + std::to_string(n), body_for(n),
                              {{"ApproximateReceiveCount", "1"}}, std::nullopt};
}

struct Harness {
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

  Harness() {
    fake.add_queue("q");
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
    consumer_config.queue = {"q", aws_test::FakeAws::queue_url("q"), aws_test::FakeAws::queue_arn("q"), false, {}, 30, false};
    consumer_config.delete_delay = 10ms;
    consumer = std::make_shared<aws::Consumer>(
        io.get_executor(), resources, std::make_shared<const tomodachi::MessageDispatcher>(std::move(config)),
        consumer_config,
        [this]() -> tomodachi::Task<aws::SubscribedQueue> {
          ++resubscribed;
          co_return aws::SubscribedQueue{"q", aws_test::FakeAws::queue_url("q"), aws_test::FakeAws::queue_arn("q"),
                                         false, {}, 30, false};
        },
        std::nullopt);
  }
  ~Harness() { tomodachi::remove_log_sink(sink); }

  bool logged(std::string_view prefix) const {
    return std::any_of(logs.begin(), logs.end(), [&](const std::string& text) { return text.starts_with(prefix); });
  }

  /// Runs the loop until `done`, then stops it and waits for it to end.
  void run_until(const std::function<bool()>& done, std::chrono::seconds timeout = 10s) {
    bool finished = false;
    boost::asio::co_spawn(io, consumer->run(), [&](std::exception_ptr) { finished = true; });
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done() && std::chrono::steady_clock::now() < deadline) io.run_one_for(20ms);
    consumer->request_stop();
    while (!finished && std::chrono::steady_clock::now() < deadline + 5s) io.run_one_for(20ms);
    EXPECT_TRUE(finished) << "the loop did not end after request_stop";
    aws_test::run(io, consumer->drain(std::chrono::steady_clock::now() + 5s));
  }
};

tomodachi::Task<std::vector<aws::ReceivedMessage>> answer(std::vector<aws::ReceivedMessage> messages) {
  co_return messages;
}

tomodachi::Task<std::vector<aws::ReceivedMessage>> long_poll() {
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, 20s);
  co_await timer.async_wait(boost::asio::use_awaitable);
  co_return std::vector<aws::ReceivedMessage>{};
}

tomodachi::Task<std::vector<aws::ReceivedMessage>> fail_with(std::exception_ptr error) {
  std::rethrow_exception(error);
  co_return std::vector<aws::ReceivedMessage>{};
}

}  // namespace

TEST(Consumer, ReceiveErrorsAreLoggedOnceAndRecovered) {
  Harness h;
  h.fake.script = [](int call) {
    if (call <= 2) {
      return fail_with(std::make_exception_ptr(aws::AwsApiError("sqs", "ReceiveMessage", 500, "InternalError", "boom")));
    }
    if (call == 3) return answer({message(1)});
    return long_poll();
  };
  h.run_until([&] { return !h.handled.empty(); }, 15s);
  EXPECT_EQ(h.handled, std::vector<int>{1});
  EXPECT_EQ(std::count_if(h.logs.begin(), h.logs.end(),
                          [](const std::string& t) { return t.starts_with("Unable to receive message from queue [sqs]"); }),
            1);
  EXPECT_TRUE(h.logged("Reconnected - receiving messages"));
  EXPECT_EQ(h.fake.deleted_receipt_handles, std::vector<std::string>{"rh-1"});
}

TEST(Consumer, MissingQueueIsSetUpAgain) {
  Harness h;
  h.fake.script = [](int call) {
    if (call == 1) {
      return fail_with(std::make_exception_ptr(aws::AwsApiError("sqs", "ReceiveMessage", 400,
                                                                "AWS.SimpleQueueService.NonExistentQueue", "gone")));
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
  h.run_until([&] { return h.handled.size() == 12 && h.fake.deleted_receipt_handles.size() == 12; });
  const auto batches = h.fake.calls_of("DeleteMessageBatch");
  ASSERT_EQ(batches.size(), 2u);
  EXPECT_EQ(batches[0].at("Entries").as_array().size(), 10u);
  EXPECT_EQ(batches[1].at("Entries").as_array().size(), 2u);
  EXPECT_TRUE(h.fake.calls_of("DeleteMessage").empty());
}

TEST(Consumer, StopCancelsTheLongPoll) {
  Harness h;
  h.fake.script = [](int) { return long_poll(); };
  const auto started = std::chrono::steady_clock::now();
  h.run_until([&] { return h.fake.receives == 1; });
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);  // not the 20 s poll
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
  EXPECT_EQ(sent[0].at("MessageAttributes").at("x-tomodachi-error-type").at("StringValue"), "UnsupportedMessageBody");
  EXPECT_EQ(h.fake.queue_attributes("q-dlq").at("MessageRetentionPeriod"), "1209600");
  EXPECT_EQ(h.fake.deleted_receipt_handles, std::vector<std::string>{"rh-x"});
}

TEST(Consumer, DeadLetterQueueNames) {
  EXPECT_EQ(aws::sqs_dead_letter_queue_name("orders"), "orders-dlq");
  EXPECT_EQ(aws::sqs_dead_letter_queue_name("orders.fifo"), "orders-dlq.fifo");
}
