// Negotiation and identity checks against in-memory descriptors (no library involved).
#include "plugin/descriptor_check.h"

#include <gtest/gtest.h>

namespace stagehost {
namespace {

stagehost_instance* FakeCreate(const stagehost_host_api*, stagehost_host_ctx*, stagehost_str,
                               stagehost_error*) {
  return nullptr;
}
stagehost_status FakeRun(stagehost_instance*, const stagehost_run_input*, stagehost_error*) {
  return STAGEHOST_OK;
}
void FakeDestroy(stagehost_instance*) {}

stagehost_plugin_descriptor Valid() {
  stagehost_plugin_descriptor d{};
  d.struct_size = sizeof(d);
  d.abi_major = STAGEHOST_ABI_MAJOR;
  d.abi_minor = STAGEHOST_ABI_MINOR;
  d.name = "fake.plugin-1_x";
  d.version = "1.2.3-rc.1+build.5";
  d.stage_type = STAGEHOST_STAGE_DEPLOY;
  d.description = "a fake";
  d.vendor = "tests";
  d.license = "MIT";
  d.config_schema_json = R"({"type":"object","properties":{"a":{"type":"integer"}}})";
  d.create = &FakeCreate;
  d.run = &FakeRun;
  d.destroy = &FakeDestroy;
  return d;
}

TEST(DescriptorCheck, ValidDescriptorIsCopied) {
  stagehost_plugin_descriptor d = Valid();
  Result<PluginInfo> info = CheckDescriptor(&d);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->name, "fake.plugin-1_x");
  EXPECT_EQ(info->version, "1.2.3-rc.1+build.5");
  EXPECT_EQ(info->stage_type, STAGEHOST_STAGE_DEPLOY);
  EXPECT_FALSE(info->supports_request_cancel);
}

TEST(DescriptorCheck, VersionRuleNamesBothVersionsAndTheRule) {
  EXPECT_TRUE(CheckAbiVersion(1, 0, 1, 3).ok());
  EXPECT_TRUE(CheckAbiVersion(1, 3, 1, 3).ok());
  EXPECT_EQ(CheckAbiVersion(1, 4, 1, 2).message(),
            "plugin needs ABI 1.4, host provides 1.2: host minor too old");
  EXPECT_EQ(CheckAbiVersion(2, 0, 1, 2).message(),
            "plugin needs ABI 2.0, host provides 1.2: major versions differ");
  EXPECT_EQ(CheckAbiVersion(0, 9, 1, 2).message(),
            "plugin needs ABI 0.9, host provides 1.2: major versions differ");
}

TEST(DescriptorCheck, NullMeansDeclined) {
  Result<PluginInfo> info = CheckDescriptor(nullptr, 1, 7);
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.status().message(), "plugin declined host ABI 1.7");
}

TEST(DescriptorCheck, OlderMinorFromANewerHostIsAccepted) {
  stagehost_plugin_descriptor d = Valid();
  EXPECT_TRUE(CheckDescriptor(&d, STAGEHOST_ABI_MAJOR, STAGEHOST_ABI_MINOR + 5).ok());
}

TEST(DescriptorCheck, ShortStructIsRefusedWithoutReadingPastIt) {
  // Only the first 8 bytes exist: a read of any later member would be out of bounds (ASan).
  auto* raw = static_cast<uint32_t*>(::operator new(8));
  raw[0] = 8;
  raw[1] = STAGEHOST_ABI_MAJOR | (STAGEHOST_ABI_MINOR << 16);
  Result<PluginInfo> info = CheckDescriptor(reinterpret_cast<stagehost_plugin_descriptor*>(raw));
  ::operator delete(raw);
  ASSERT_FALSE(info.ok());
  EXPECT_NE(
      info.status().message().find("descriptor struct_size 8 is smaller than the ABI 1.0 layout"),
      std::string::npos);
}

TEST(DescriptorCheck, RequiredMembersAreNamed) {
  for (auto [member, clear] :
       std::initializer_list<std::pair<const char*, void (*)(stagehost_plugin_descriptor&)>>{
           {"create", [](stagehost_plugin_descriptor& d) { d.create = nullptr; }},
           {"run", [](stagehost_plugin_descriptor& d) { d.run = nullptr; }},
           {"destroy", [](stagehost_plugin_descriptor& d) { d.destroy = nullptr; }}}) {
    stagehost_plugin_descriptor d = Valid();
    clear(d);
    Result<PluginInfo> info = CheckDescriptor(&d);
    ASSERT_FALSE(info.ok());
    EXPECT_EQ(info.status().message(), std::string("descriptor member '") + member + "' is NULL");
  }
}

TEST(DescriptorCheck, IdentityIsChecked) {
  stagehost_plugin_descriptor d = Valid();
  d.name = "Upper";
  EXPECT_NE(CheckDescriptor(&d).status().message().find("invalid plugin name \"Upper\""),
            std::string::npos);
  d = Valid();
  d.name = nullptr;
  EXPECT_FALSE(CheckDescriptor(&d).ok());
  d = Valid();
  d.version = "1.02.3";
  EXPECT_NE(CheckDescriptor(&d).status().message().find("invalid plugin version \"1.02.3\""),
            std::string::npos);
  d = Valid();
  d.stage_type = static_cast<stagehost_stage_type>(9);
  EXPECT_NE(CheckDescriptor(&d).status().message().find("unknown stage type 9"), std::string::npos);
  d = Valid();
  d.license = "";
  EXPECT_NE(CheckDescriptor(&d).status().message().find("'license' is empty"), std::string::npos);
  d = Valid();
  d.config_schema_json = "{not json";
  EXPECT_NE(CheckDescriptor(&d).status().message().find("invalid config schema"),
            std::string::npos);
  d = Valid();
  d.config_schema_json = "[]";
  EXPECT_NE(CheckDescriptor(&d).status().message().find("invalid config schema"),
            std::string::npos);
}

TEST(DescriptorCheck, NamePattern) {
  EXPECT_TRUE(IsValidPluginName("a"));
  EXPECT_TRUE(IsValidPluginName("0-unit.test_x"));
  EXPECT_FALSE(IsValidPluginName(""));
  EXPECT_FALSE(IsValidPluginName("-a"));
  EXPECT_FALSE(IsValidPluginName(".a"));
  EXPECT_FALSE(IsValidPluginName("a b"));
  EXPECT_FALSE(IsValidPluginName("a/b"));
  EXPECT_FALSE(IsValidPluginName(std::string(65, 'a')));
}

TEST(DescriptorCheck, Semver) {
  EXPECT_TRUE(IsValidSemver("0.0.0"));
  EXPECT_TRUE(IsValidSemver("10.20.30-alpha.1+sha.abc"));
  EXPECT_FALSE(IsValidSemver("1.2"));
  EXPECT_FALSE(IsValidSemver("v1.2.3"));
  EXPECT_FALSE(IsValidSemver("1.2.3-"));
  EXPECT_FALSE(IsValidSemver("01.2.3"));
}

}  // namespace
}  // namespace stagehost
