// clang-format off
// (the `// expect:` lines are compared with the compiler output as they are)
// A free function given where a member function pointer is expected.
// expect: tomodachi: a handler <&Class::fn> must be a pointer to a member function (register other callables with a name, e.g. amqp(key, "name", callable))
#include <tomodachi/tomodachi.hpp>

tomodachi::Task<void> on_order(tomodachi::Message& message) { co_return; }

class Orders : public tomodachi::Service {
 public:
  Orders() : Service("orders") { aws_sns_sqs<&on_order>("order-created"); }
};

int main() { Orders orders; }
