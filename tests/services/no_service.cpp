// A file that defines no service (no TOMODACHI_SERVICE): nothing to run.
#include <tomodachi/tomodachi.hpp>

class NotRegistered : public tomodachi::Service {
 public:
  NotRegistered() : Service("not-registered") {}
  tomodachi::Task<void> start_service() override { co_return; }
};
