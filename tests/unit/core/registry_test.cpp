// The service registry (spec/service.md §3): get_service(), get_service(name),
// get_services(), name clash suffixes and the name derived for a service without one.
//
// Running instances are registered only by the launcher, so these tests go through its
// internal seam `detail::launch()` (src/core/launcher.hpp, as `tomodachi run` does): the
// services record what the public registry API answers from inside `started_service`,
// then call tomodachi::exit().
#include <tomodachi/service.hpp>

#include <gtest/gtest.h>

#include "core/launcher.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

namespace {

using tomodachi::Service;
using tomodachi::Task;
using tomodachi::detail::Container;
using tomodachi::detail::ServiceFactory;

/// What the registry answered while the services ran.
struct Observed {
  std::string get_service_name;               // get_service()->name()
  std::vector<std::string> names;             // get_services(), in order
  std::map<std::string, bool> found_by_name;  // get_service(name) == the instance with that name
  bool unknown_is_null = false;               // get_service("no-such-service") == nullptr
  std::vector<Service*> instances;            // every instance that ran started_service
};
Observed observed;

void observe_registry() {
  observed.get_service_name =
      tomodachi::get_service() ? tomodachi::get_service()->name() : "<null>";
  observed.names.clear();
  observed.found_by_name.clear();
  for (Service* service : tomodachi::get_services()) {
    observed.names.push_back(service->name());
    observed.found_by_name[service->name()] = tomodachi::get_service(service->name()) == service;
  }
  observed.unknown_is_null = tomodachi::get_service("no-such-service") == nullptr;
}

/// A service with the given name; the one named `Observer` (by its class) records the
/// registry and stops the run. `started_service` of every service runs after all of
/// them were registered.
template <const char* Name, bool Observer>
class NamedService : public Service {
 public:
  NamedService() : Service(Name) {}
  Task<void> started_service() override {
    observed.instances.push_back(this);
    if (Observer) {
      observe_registry();
      tomodachi::exit();
    }
    co_return;
  }
};

constexpr char alpha[] = "alpha";
constexpr char beta[] = "beta";
constexpr char twin[] = "twin";
constexpr char twin_prod[] = "twin-prod";
constexpr char unnamed[] = "";

template <typename S>
ServiceFactory factory() {
  return +[]() -> std::unique_ptr<Service> { return std::make_unique<S>(); };
}

int launch(std::vector<Container> containers) {
  observed = Observed{};
  return tomodachi::detail::launch(std::move(containers), {}).exit_code;
}

TEST(Registry, IsEmptyOutsideARun) {
  EXPECT_EQ(tomodachi::get_service(), nullptr);
  EXPECT_EQ(tomodachi::get_service("alpha"), nullptr);
  EXPECT_TRUE(tomodachi::get_services().empty());
}

TEST(Registry, GetServiceIsTheMostRecentlyRegisteredAndByNameFindsEach) {
  // Classes of a file are instantiated (and registered) in alphabetical order of their
  // class names, whatever order they were declared in: Alpha, then Beta, then Observer.
  Container file{"shop.cpp", {}};
  file.classes.push_back({"Observer", factory<NamedService<twin_prod, true>>(), __FILE__});
  file.classes.push_back({"Beta", factory<NamedService<beta, false>>(), __FILE__});
  file.classes.push_back({"Alpha", factory<NamedService<alpha, false>>(), __FILE__});
  std::vector<Container> containers;
  containers.push_back(std::move(file));
  ASSERT_EQ(launch(std::move(containers)), 0);

  EXPECT_EQ(observed.names, (std::vector<std::string>{"alpha", "beta", "twin-prod"}));
  EXPECT_EQ(observed.get_service_name, "twin-prod");
  EXPECT_EQ(observed.found_by_name,
            (std::map<std::string, bool>{{"alpha", true}, {"beta", true}, {"twin-prod", true}}));
  EXPECT_TRUE(observed.unknown_is_null);
  EXPECT_EQ(observed.instances.size(), 3u);
  // The run is over: the registry no longer holds its (destroyed) services.
  EXPECT_EQ(tomodachi::get_service(), nullptr);
  EXPECT_TRUE(tomodachi::get_services().empty());
}

TEST(Registry, NameClashesGetNumberedSuffixesAndTheFirstHolderIsRenamed) {
  Container file{"twins.cpp", {}};
  file.classes.push_back({"TwinA", factory<NamedService<twin, false>>(), __FILE__});
  file.classes.push_back({"TwinB", factory<NamedService<twin, false>>(), __FILE__});
  file.classes.push_back({"TwinC", factory<NamedService<twin, false>>(), __FILE__});
  // Looks like a numbered copy of nothing registered: keeps its name. Registered last.
  file.classes.push_back({"Zz", factory<NamedService<twin_prod, true>>(), __FILE__});
  std::vector<Container> containers;
  containers.push_back(std::move(file));
  ASSERT_EQ(launch(std::move(containers)), 0);

  EXPECT_EQ(observed.names,
            (std::vector<std::string>{"twin-0001", "twin-0002", "twin-0003", "twin-prod"}));
  EXPECT_EQ(observed.found_by_name.at("twin-0001"), true);
  EXPECT_EQ(observed.found_by_name.at("twin-0003"), true);
  EXPECT_EQ(observed.found_by_name.count("twin"), 0u) << "no service keeps the clashing name";
}

TEST(Registry, NameClashesAcrossFilesOfOneProcess) {
  std::vector<Container> containers;
  containers.push_back(
      Container{"a.cpp", {{"Twin", factory<NamedService<twin, false>>(), __FILE__}}});
  containers.push_back(Container{"b.cpp",
                                 {{"Twin", factory<NamedService<twin, false>>(), __FILE__},
                                  {"ZObserver", factory<NamedService<beta, true>>(), __FILE__}}});
  ASSERT_EQ(launch(std::move(containers)), 0);

  // Files start concurrently, so which file's service is -0001 is not fixed.
  std::vector<std::string> names = observed.names;
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"beta", "twin-0001", "twin-0002"}));
  EXPECT_EQ(observed.instances.size(), 3u);
}

// ---- names derived for services constructed with an empty name ---------------------

struct DerivedNameCase {
  const char* file_path;
  const char* class_name;
  const char* expected;
};

void PrintTo(const DerivedNameCase& c, std::ostream* os) {
  *os << c.file_path << " " << c.class_name;
}

class DerivedName : public ::testing::TestWithParam<DerivedNameCase> {};

TEST_P(DerivedName, FromFileStemAndKebabCaseClassName) {
  const DerivedNameCase& c = GetParam();
  std::vector<Container> containers;
  containers.push_back(
      Container{c.file_path, {{c.class_name, factory<NamedService<unnamed, true>>(), __FILE__}}});
  ASSERT_EQ(launch(std::move(containers)), 0);
  EXPECT_EQ(observed.names, std::vector<std::string>{c.expected});
}

INSTANTIATE_TEST_SUITE_P(
    Registry, DerivedName,
    ::testing::Values(DerivedNameCase{"services/shop.cpp", "OrderService", "shop-order-service"},
                      DerivedNameCase{"shop.cpp", "Order_service", "shop-order-service"},
                      DerivedNameCase{"shop.cpp", "orders::Cart", "shop-orders-cart"},
                      // Conventional entry file names add no prefix.
                      DerivedNameCase{"/srv/service.cpp", "OrderService", "order-service"},
                      DerivedNameCase{"app.cpp", "OrderService", "order-service"},
                      DerivedNameCase{"src/main.cpp", "Billing", "billing"},
                      DerivedNameCase{"tests.cpp", "Billing", "billing"},
                      // A class named App (or Service) becomes "service".
                      DerivedNameCase{"app.cpp", "App", "service"},
                      DerivedNameCase{"service.cpp", "Service", "service"},
                      DerivedNameCase{"shop.cpp", "App", "shop-service"}),
    [](const ::testing::TestParamInfo<DerivedNameCase>& info) {
      std::string name = std::to_string(info.index) + "_" + info.param.expected;
      for (char& c : name) {
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
      }
      return name;
    });

}  // namespace
