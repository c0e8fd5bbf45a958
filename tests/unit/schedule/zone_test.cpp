// Time zones: the offset aliases of spec/schedule.md §5, tzdata lookups, the wall-clock →
// instant mapping, and local-zone detection from TZ and /etc/localtime.

#include "schedule/zone.hpp"
#include "support.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>
#include <filesystem>
#include <fstream>

namespace tomodachi::schedule_impl::test_support {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
using ::testing::HasSubstr;

std::string two_digits(int value) { return (value < 10 ? "0" : "") + std::to_string(value); }

TEST(TimezoneAliases, EverySpellingOfEveryWholeHourOffset) {
  for (int n = 1; n <= 12; ++n) {
    for (const char sign : {'+', '-'}) {
      const std::string expected =
          "Etc/GMT" + std::string(1, sign == '+' ? '-' : '+') + std::to_string(n);
      const std::string s(1, sign);
      std::vector<std::string> spellings{
          s + two_digits(n) + ":00", s + two_digits(n) + "00", "GMT " + s + two_digits(n) + "00",
          "GMT " + s + two_digits(n) + ":00", "GMT " + s + two_digits(n)};
      if (n < 10) spellings.push_back("GMT " + s + std::to_string(n));
      for (const auto& spelling : spellings) {
        EXPECT_EQ(resolve_timezone_alias(spelling), expected) << spelling;
        std::string compact = spelling;
        std::erase(compact, ' ');
        EXPECT_EQ(resolve_timezone_alias(compact), expected) << compact;
        const auto offset = resolve_timezone(spelling).offset_at(date::sys_seconds{});
        EXPECT_EQ(offset, hours{sign == '+' ? n : -n}) << spelling;
      }
    }
  }
}

TEST(TimezoneAliases, ZeroOffsetSpellingsAreGmt0) {
  for (const char* spelling : {"+00:00", "-00:00", "00:00", "0000", "GMT +0000", "GMT +00:00",
                               "GMT -00", "GMT +00", "GMT -0", "GMT +0", "GMT+0", "GMT-00"}) {
    EXPECT_EQ(resolve_timezone_alias(spelling), "GMT0") << spelling;
    EXPECT_EQ(resolve_timezone(spelling).offset_at(date::sys_seconds{}), seconds{0}) << spelling;
  }
}

TEST(TimezoneAliases, OtherNamesPassThroughUnchanged) {
  EXPECT_EQ(resolve_timezone_alias("Europe/Stockholm"), "Europe/Stockholm");
  EXPECT_EQ(resolve_timezone_alias("GMT +1:00"), "GMT +1:00");
  EXPECT_EQ(resolve_timezone_alias("GMT +10:30"), "GMT +10:30");
  EXPECT_EQ(resolve_timezone_alias("gmt +1"), "gmt +1");
}

TEST(TimezoneLookup, NamesAreFoundExactlyOrIgnoringCase) {
  EXPECT_EQ(Zone::named("Europe/Stockholm").name(), "Europe/Stockholm");
  EXPECT_EQ(Zone::named("europe/stockholm").name(), "Europe/Stockholm");
  EXPECT_EQ(resolve_timezone("utc").offset_at(date::sys_seconds{}), seconds{0});
  EXPECT_EQ(Zone::named("US/Eastern").offset_at(date::sys_days{date::year{2024} / 1 / 1}),
            hours{-5});
}

TEST(TimezoneLookup, UnknownNamesKeepTheGivenSpelling) {
  try {
    resolve_timezone("Mars/Olympus");
    FAIL() << "resolved";
  } catch (const ScheduleError& error) {
    EXPECT_STREQ(error.what(), "Unknown timezone: Mars/Olympus");
  }
  EXPECT_THROW(Zone::named(""), ScheduleError);
}

TEST(ZoneMapping, UtcIsTheIdentity) {
  const Zone utc = Zone::utc();
  const date::local_seconds wall{date::local_days{date::year{2024} / 3 / 31} + hours{2}};
  EXPECT_EQ(utc.name(), "UTC");
  EXPECT_EQ(utc.to_instant(wall).time_since_epoch(), wall.time_since_epoch());
  EXPECT_EQ(utc.to_local(utc.to_instant(wall)), wall);
}

TEST(ZoneMapping, UniqueRepeatedAndSkippedWallTimes) {
  const Zone stockholm = Zone::named("Europe/Stockholm");
  const auto at = [](int month, int day, int hour, int minute) {
    return date::local_seconds{date::local_days{date::year{2024} / month / day} + hours{hour} +
                               minutes{minute}};
  };
  const auto utc_at = [](int month, int day, int hour, int minute) {
    return date::sys_seconds{date::sys_days{date::year{2024} / month / day} + hours{hour} +
                             minutes{minute}};
  };
  EXPECT_EQ(stockholm.to_instant(at(6, 15, 12, 0)), utc_at(6, 15, 10, 0));
  // 02:30 exists twice on 2024-10-27: the first (CEST) occurrence.
  EXPECT_EQ(stockholm.to_instant(at(10, 27, 2, 30)), utc_at(10, 27, 0, 30));
  // 02:30 does not exist on 2024-03-31: the first instant after the gap (03:00 CEST).
  EXPECT_EQ(stockholm.to_instant(at(3, 31, 2, 30)), utc_at(3, 31, 1, 0));
  EXPECT_EQ(stockholm.to_instant(at(3, 31, 2, 0)), utc_at(3, 31, 1, 0));
  EXPECT_EQ(stockholm.to_instant(at(3, 31, 3, 0)), utc_at(3, 31, 1, 0));
  EXPECT_EQ(stockholm.offset_at(utc_at(3, 31, 1, 0)), hours{2});
  EXPECT_EQ(stockholm.offset_at(utc_at(3, 31, 0, 59)), hours{1});
}

// ---- local zone detection -----------------------------------------------------------------

class LocalZoneDetection : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = std::filesystem::temp_directory_path() /
                 ("tomodachi-zone-test-" + std::to_string(::getpid()) + "-" +
                  ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(directory_);
    sources_.localtime = directory_ / "localtime";
    sources_.timezone_file = directory_ / "timezone";
  }
  void TearDown() override { std::filesystem::remove_all(directory_); }

  void link_localtime(const std::string& target) {
    std::filesystem::create_symlink(target, sources_.localtime);
  }
  void write_file(const std::filesystem::path& path, const std::string& text) {
    std::ofstream(path) << text;
  }

  std::filesystem::path directory_;
  LocalZoneSources sources_;
};

TEST_F(LocalZoneDetection, TzVariableByNameColonNameOrPath) {
  for (const char* tz :
       {"Europe/Stockholm", ":Europe/Stockholm", "/usr/share/zoneinfo/Europe/Stockholm"}) {
    sources_.tz_variable = tz;
    const auto local = detect_local_zone(sources_);
    EXPECT_EQ(local.zone.name(), "Europe/Stockholm") << tz;
    EXPECT_FALSE(local.warning) << tz;
  }
}

TEST_F(LocalZoneDetection, TzVariableWinsOverLocaltime) {
  link_localtime("/usr/share/zoneinfo/Asia/Tokyo");
  sources_.tz_variable = "America/New_York";
  EXPECT_EQ(detect_local_zone(sources_).zone.name(), "America/New_York");
}

TEST_F(LocalZoneDetection, EmptyTzIsUtcLikeTheCLibrary) {
  sources_.tz_variable = "";
  const auto local = detect_local_zone(sources_);
  EXPECT_EQ(local.zone.name(), "UTC");
  EXPECT_FALSE(local.warning);
}

TEST_F(LocalZoneDetection, UnknownTzIsUtcWithAWarning) {
  sources_.tz_variable = "Not/AZone";
  const auto local = detect_local_zone(sources_);
  EXPECT_EQ(local.zone.name(), "UTC");
  ASSERT_TRUE(local.warning);
  EXPECT_THAT(*local.warning, HasSubstr("TZ=Not/AZone"));
}

TEST_F(LocalZoneDetection, LocaltimeSymlinkNamesTheZone) {
  link_localtime("../usr/share/zoneinfo/Asia/Tokyo");
  const auto local = detect_local_zone(sources_);
  EXPECT_EQ(local.zone.name(), "Asia/Tokyo");
  EXPECT_FALSE(local.warning);
}

TEST_F(LocalZoneDetection, CopiedLocaltimeFileFallsBackToTheTimezoneFile) {
  write_file(sources_.localtime, "TZif");
  write_file(sources_.timezone_file, "America/New_York\n");
  EXPECT_EQ(detect_local_zone(sources_).zone.name(), "America/New_York");
}

// Container images often copy the zone file to /etc/localtime instead of linking it, and
// have no /etc/timezone.
TEST_F(LocalZoneDetection, CopiedLocaltimeFileIsFoundByItsBytes) {
  for (const char* zone : {"America/New_York", "Asia/Tokyo", "Europe/Stockholm"}) {
    std::filesystem::remove(sources_.localtime);
    std::filesystem::copy_file(std::filesystem::path("/usr/share/zoneinfo") / zone,
                               sources_.localtime);
    ASSERT_FALSE(std::filesystem::exists(sources_.timezone_file));
    const auto local = detect_local_zone(sources_);
    EXPECT_EQ(local.zone.name(), zone);
    EXPECT_FALSE(local.warning) << zone;
  }
}

TEST_F(LocalZoneDetection, CopiedLocaltimeBytesWinOverADisagreeingTimezoneFile) {
  std::filesystem::copy_file("/usr/share/zoneinfo/Asia/Tokyo", sources_.localtime);
  write_file(sources_.timezone_file, "America/New_York\n");  // what the C library reads is Tokyo
  EXPECT_EQ(detect_local_zone(sources_).zone.name(), "Asia/Tokyo");
}

TEST_F(LocalZoneDetection, IdenticalZoneFilesPreferTheTimezoneFileThenARegionName) {
  // A zoneinfo folder where one zone is present under three names (as hard links or
  // copies are on some systems); posix/ is skipped.
  const auto zoneinfo = directory_ / "zoneinfo";
  for (const char* name : {"Japan", "Asia/Tokyo", "posix/Asia/Tokyo", "America/New_York"}) {
    std::filesystem::create_directories((zoneinfo / name).parent_path());
    const char* source =
        std::string_view(name).ends_with("New_York") ? "America/New_York" : "Asia/Tokyo";
    std::filesystem::copy_file(std::filesystem::path("/usr/share/zoneinfo") / source,
                               zoneinfo / name);
  }
  sources_.zoneinfo = zoneinfo;
  std::filesystem::copy_file("/usr/share/zoneinfo/Asia/Tokyo", sources_.localtime);
  EXPECT_EQ(detect_local_zone(sources_).zone.name(), "Asia/Tokyo");
  write_file(sources_.timezone_file, "Japan\n");
  EXPECT_EQ(detect_local_zone(sources_).zone.name(), "Japan");
}

TEST_F(LocalZoneDetection, AnUnknownCopiedLocaltimeWithoutTimezoneFileIsUtcWithAWarning) {
  write_file(sources_.localtime, "TZif not a zone of the tzdata");
  const auto local = detect_local_zone(sources_);
  EXPECT_EQ(local.zone.name(), "UTC");
  ASSERT_TRUE(local.warning);
}

TEST_F(LocalZoneDetection, NothingFoundIsUtcWithAWarning) {
  const auto local = detect_local_zone(sources_);
  EXPECT_EQ(local.zone.name(), "UTC");
  ASSERT_TRUE(local.warning);
  EXPECT_THAT(*local.warning, HasSubstr(sources_.localtime.string()));
}

TEST_F(LocalZoneDetection, ProcessLocalZoneIsDetectedOnce) {
  const LocalZone& first = local_zone();
  EXPECT_EQ(&first, &local_zone());
  EXPECT_FALSE(first.zone.name().empty());
}

}  // namespace
}  // namespace tomodachi::schedule_impl::test_support
