// register_transport<Spec>: the transport's identity is its registration type. The kind is
// Spec::kind, the factory gets its registrations as Spec, and a registration of another type
// under that kind fails the start naming the handler, checked in one place.
#include "core/transports.hpp"

#include <tomodachi/service.hpp>
#include <tomodachi/transport/transport.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace {

struct BellSpec : tomodachi::HandlerSpec {
  static constexpr std::string_view kind = "test_bell";
  BellSpec(std::string name, int rings)
      : HandlerSpec(std::string(kind), std::move(name)), rings(rings) {}
  int rings;
};

class BellTransport final : public tomodachi::TransportInstance {
 public:
  explicit BellTransport(int total) : total(total) {}
  tomodachi::Task<void> start() override { co_return; }
  tomodachi::Task<void> stop(tomodachi::Deadline) override { co_return; }
  int total;
};

TEST(TypedTransport, TheFactoryGetsItsOwnRegistrationType) {
  tomodachi::register_transport<BellSpec>(
      [](tomodachi::Service&,
         std::vector<const BellSpec*> specs) -> std::unique_ptr<tomodachi::TransportInstance> {
        int total = 0;
        for (const BellSpec* spec : specs) total += spec->rings;
        return std::make_unique<BellTransport>(total);
      });
  const auto factory = tomodachi::detail::find_transport("test_bell");
  ASSERT_TRUE(factory.has_value());

  tomodachi::Service service("bells");
  const BellSpec first("ring_twice", 2);
  const BellSpec second("ring_thrice", 3);
  const auto instance = (*factory)(service, {&first, &second});
  ASSERT_NE(dynamic_cast<BellTransport*>(instance.get()), nullptr);
  EXPECT_EQ(dynamic_cast<BellTransport&>(*instance).total, 5);

  const tomodachi::HandlerSpec stranger(std::string(BellSpec::kind), "not_a_bell");
  try {
    (*factory)(service, {&first, &stranger});
    FAIL() << "expected a tomodachi::Error";
  } catch (const tomodachi::Error& error) {
    EXPECT_NE(std::string(error.what()).find("'not_a_bell'"), std::string::npos) << error.what();
  }
}

}  // namespace
