// A service class without handlers or hooks: the file has nothing to run.
#include <tomodachi/tomodachi.hpp>

class EmptyService : public tomodachi::Service {
 public:
  EmptyService() : Service("empty") {}
};

TOMODACHI_SERVICE(EmptyService);
