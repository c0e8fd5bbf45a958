// clang-format off
// (the `// expect:` lines are compared with the compiler output as they are)
// A member function of a class that is not a tomodachi::Service, registered as a handler.
// expect: tomodachi: a handler <&Class::fn> must be a member function of a class derived from tomodachi::Service
#include <tomodachi/tomodachi.hpp>

struct Helper {
  tomodachi::Task<void> on_order(tomodachi::Message& message) { co_return; }
};

class Orders : public tomodachi::Service {
 public:
  Orders() : Service("orders") { amqp<&Helper::on_order>("order.created"); }
};

int main() { Orders orders; }
