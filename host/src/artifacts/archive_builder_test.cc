// Tests for BuildArchive: globs, exclude, untracked, stored entries, symlinks, gzip and raw.
#include "artifacts/archive_builder.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <random>

#include "testutil/stagehost_cli.h"

namespace stagehost::artifacts {
namespace {
namespace fs = std::filesystem;

struct ZipEntry {
  mode_t type = 0;
  std::string data;
  std::string link;
};

// Reads the zip back with libarchive (an independent reader, not our writer).
std::map<std::string, ZipEntry> ReadZip(const fs::path& zip) {
  std::map<std::string, ZipEntry> out;
  struct archive* a = archive_read_new();
  archive_read_support_format_zip(a);
  EXPECT_EQ(archive_read_open_filename(a, zip.c_str(), 65536), ARCHIVE_OK);
  archive_entry* entry;
  while (archive_read_next_header(a, &entry) == ARCHIVE_OK) {
    ZipEntry e;
    e.type = archive_entry_filetype(entry);
    if (archive_entry_symlink(entry)) e.link = archive_entry_symlink(entry);
    char buffer[65536];
    la_ssize_t n;
    while ((n = archive_read_data(a, buffer, sizeof buffer)) > 0) e.data.append(buffer, n);
    std::string name = archive_entry_pathname(entry);
    if (!name.empty() && name.back() == '/') name.pop_back();
    out[name] = e;
  }
  archive_read_free(a);
  return out;
}

std::string Shell(const std::string& command) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, n);
  pclose(pipe);
  return out;
}

std::string RandomBytes(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

class ArchiveBuilderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    project_ = tmp_ / "project";
    fs::create_directories(project_);
  }

  void Write(const std::string& rel, const std::string& data) {
    fs::create_directories((project_ / rel).parent_path());
    std::ofstream(project_ / rel, std::ios::binary) << data;
  }
  ArchiveSpec Spec(std::vector<std::string> paths, ArchiveFormat format = ArchiveFormat::kZip) {
    ArchiveSpec spec;
    spec.project_dir = project_;
    spec.paths = std::move(paths);
    spec.format = format;
    spec.output = tmp_ / "out.bin";
    return spec;
  }

  testutil::TempDir temp_;  // removed after every other member
  fs::path tmp_ = temp_.path();
  fs::path project_;
};

TEST(GlobMatchTest, DoubleStarAndSingleComponentWildcards) {
  EXPECT_TRUE(GlobMatch("a/**/*.txt", "a/x.txt"));
  EXPECT_TRUE(GlobMatch("a/**/*.txt", "a/b/c/x.txt"));
  EXPECT_FALSE(GlobMatch("a/**/*.txt", "b/x.txt"));
  EXPECT_FALSE(GlobMatch("a/*.txt", "a/b/x.txt"));
  EXPECT_TRUE(GlobMatch("**/*.log", "x.log"));
  EXPECT_TRUE(GlobMatch("**", "any/thing"));
  EXPECT_TRUE(GlobMatch("build/?.o", "build/a.o"));
  EXPECT_TRUE(GlobMatch("build/[ab].o", "build/b.o"));
  EXPECT_FALSE(GlobMatch("build/[ab].o", "build/c.o"));
}

TEST(LooksCompressibleTest, TextYesRandomNo) {
  EXPECT_TRUE(LooksCompressible(std::string(65536, 'a')));
  EXPECT_FALSE(LooksCompressible(RandomBytes(65536, 1)));
  EXPECT_FALSE(LooksCompressible(""));
}

TEST_F(ArchiveBuilderTest, DoubleStarGlobExcludeAndContentsReadBack) {
  Write("a/top.txt", "top\n");
  Write("a/b/c/deep.txt", "deep\n");
  Write("a/b/skip.txt", "skip\n");
  Write("a/b/other.log", "log\n");
  Write("z.txt", "outside the glob\n");
  ArchiveSpec spec = Spec({"a/**/*.txt"});
  spec.exclude = {"a/b/skip.txt"};
  Result<StagedArchive> staged = BuildArchive(spec);
  ASSERT_TRUE(staged.ok()) << staged.status().ToString();
  auto zip = ReadZip(staged->path);
  EXPECT_EQ(zip.size(), 2u);
  EXPECT_EQ(zip["a/top.txt"].data, "top\n");
  EXPECT_EQ(zip["a/b/c/deep.txt"].data, "deep\n");
  EXPECT_EQ(staged->entries, 2u);
  EXPECT_EQ(staged->size, fs::file_size(staged->path));
  EXPECT_EQ(staged->sha256.size(), 64u);
  // Debian's unzip agrees on the listing and the bytes.
  std::string listing = Shell("unzip -l " + staged->path.string());
  EXPECT_NE(listing.find("a/b/c/deep.txt"), std::string::npos) << listing;
  EXPECT_EQ(Shell("unzip -p " + staged->path.string() + " a/b/c/deep.txt"), "deep\n");
}

TEST_F(ArchiveBuilderTest, DirectoryPatternBringsSubtreeAndExcludeDirectory) {
  Write("build/x.o", "x");
  Write("build/tmp/junk", "junk");
  Write("build/sub/y.o", "y");
  ArchiveSpec spec = Spec({"build/"});
  spec.exclude = {"build/tmp"};
  Result<StagedArchive> staged = BuildArchive(spec);
  ASSERT_TRUE(staged.ok()) << staged.status().ToString();
  auto zip = ReadZip(staged->path);
  EXPECT_TRUE(zip.count("build"));
  EXPECT_EQ(zip["build"].type, AE_IFDIR);
  EXPECT_EQ(zip["build/x.o"].data, "x");
  EXPECT_EQ(zip["build/sub/y.o"].data, "y");
  EXPECT_FALSE(zip.count("build/tmp"));
  EXPECT_FALSE(zip.count("build/tmp/junk"));
}

TEST_F(ArchiveBuilderTest, IncompressibleEntriesAreStoredOthersDeflated) {
  std::string noise = RandomBytes(300 * 1024, 7);
  std::string text;
  for (int i = 0; i < 20000; ++i) text += "line " + std::to_string(i % 50) + " of a log\n";
  Write("out/noise.bin", noise);
  Write("out/log.txt", text);
  Result<StagedArchive> staged = BuildArchive(Spec({"out/*"}));
  ASSERT_TRUE(staged.ok()) << staged.status().ToString();
  EXPECT_EQ(staged->stored_entries, 1u);
  auto zip = ReadZip(staged->path);
  EXPECT_EQ(zip["out/noise.bin"].data, noise);
  EXPECT_EQ(zip["out/log.txt"].data, text);
  // `unzip -v` prints the method per entry: Stored for the noise, Defl for the text.
  std::string verbose = Shell("unzip -v " + staged->path.string());
  auto line_of = [&](const std::string& name) {
    size_t at = verbose.find(name);
    size_t start = verbose.rfind('\n', at) + 1;
    return verbose.substr(start, at - start);
  };
  EXPECT_NE(line_of("out/noise.bin").find("Stored"), std::string::npos) << verbose;
  EXPECT_NE(line_of("out/log.txt").find("Defl"), std::string::npos) << verbose;
  EXPECT_LT(staged->size, noise.size() + text.size() / 4);
}

TEST_F(ArchiveBuilderTest, SymlinksStoredAsLinksAndNeverFollowed) {
  Write("dist/real.txt", "real");
  fs::create_symlink("real.txt", project_ / "dist/link.txt");
  fs::create_symlink("/etc", project_ / "dist/etc-link");
  Result<StagedArchive> staged = BuildArchive(Spec({"dist"}));
  ASSERT_TRUE(staged.ok()) << staged.status().ToString();
  auto zip = ReadZip(staged->path);
  EXPECT_EQ(zip["dist/link.txt"].type, AE_IFLNK);
  EXPECT_EQ(zip["dist/link.txt"].link, "real.txt");
  EXPECT_EQ(zip["dist/etc-link"].type, AE_IFLNK);
  EXPECT_EQ(zip["dist/etc-link"].link, "/etc");
  for (const auto& [name, entry] : zip) EXPECT_FALSE(name.starts_with("dist/etc-link/")) << name;
}

TEST_F(ArchiveBuilderTest, PathsLeavingTheProjectAreRefused) {
  fs::create_directories(tmp_ / "secret");
  std::ofstream(tmp_ / "secret/key") << "k";
  fs::create_symlink(tmp_ / "secret", project_ / "via-link");
  for (std::string pattern : {"../secret/key", "/etc/passwd", "via-link/key", "via-link/*"}) {
    Result<StagedArchive> staged = BuildArchive(Spec({pattern}));
    ASSERT_FALSE(staged.ok()) << pattern;
    EXPECT_EQ(staged.status().code(), StatusCode::kInvalidArgument) << pattern;
    EXPECT_NE(staged.status().message().find(pattern), std::string::npos)
        << staged.status().message();
  }
  // A glob never descends into a symlinked directory.
  Write("ok.txt", "ok");
  Result<std::vector<std::string>> entries = CollectArchiveEntries(Spec({"**/key", "ok.txt"}));
  ASSERT_TRUE(entries.ok());
  EXPECT_EQ(*entries, std::vector<std::string>{"ok.txt"});
}

TEST_F(ArchiveBuilderTest, NothingMatchedNamesThePatterns) {
  Write("a.txt", "a");
  ArchiveSpec spec = Spec({"missing/**", "*.none"});
  spec.exclude = {"a.txt"};
  Result<StagedArchive> staged = BuildArchive(spec);
  ASSERT_FALSE(staged.ok());
  EXPECT_EQ(staged.status().code(), StatusCode::kNotFound);
  EXPECT_NE(staged.status().message().find("missing/**, *.none"), std::string::npos)
      << staged.status().message();
  EXPECT_NE(staged.status().message().find("exclude [a.txt]"), std::string::npos);
  EXPECT_FALSE(fs::exists(spec.output));
}

TEST_F(ArchiveBuilderTest, UntrackedUsesGitAndKeepsIgnoredFilesOut) {
  Write("tracked.txt", "t");
  Write(".gitignore", "*.ignored\n");
  std::string git = "git -C " + project_.string() + " -c user.name=t -c user.email=t@e ";
  ASSERT_EQ(system((git + "init -q && " + git + "add tracked.txt .gitignore && " + git +
                    "commit -qm init")
                       .c_str()),
            0);
  Write("new/untracked.txt", "u");
  Write("build.ignored", "i");
  ArchiveSpec spec = Spec({});
  spec.untracked = true;
  Result<std::vector<std::string>> entries = CollectArchiveEntries(spec);
  ASSERT_TRUE(entries.ok()) << entries.status().ToString();
  EXPECT_EQ(*entries, std::vector<std::string>{"new/untracked.txt"});
  // Not a git work tree: every file counts as untracked.
  fs::remove_all(project_ / ".git");
  entries = CollectArchiveEntries(spec);
  ASSERT_TRUE(entries.ok()) << entries.status().ToString();
  // tracked.txt, .gitignore, build.ignored, new, new/untracked.txt.
  EXPECT_EQ(entries->size(), 5u);
}

TEST_F(ArchiveBuilderTest, GzipWritesOneMemberPerFileAndRawTakesExactlyOne) {
  std::string junit = "<testsuites>" + std::string(5000, 'x') + "</testsuites>";
  Write("reports/junit.xml", junit);
  Result<StagedArchive> gz = BuildArchive(Spec({"reports/*.xml"}, ArchiveFormat::kGzip));
  ASSERT_TRUE(gz.ok()) << gz.status().ToString();
  EXPECT_EQ(gz->single_file, "reports/junit.xml");
  auto gunzip = [](const fs::path& path) {
    gzFile file = gzopen(path.c_str(), "rb");  // reads every member, back to back
    std::string out(1 << 16, '\0');
    int n = gzread(file, out.data(), static_cast<unsigned>(out.size()));
    gzclose(file);
    return out.substr(0, n < 0 ? 0 : n);
  };
  EXPECT_EQ(gunzip(gz->path), junit);
  EXPECT_LT(gz->size, junit.size());

  Result<StagedArchive> raw = BuildArchive(Spec({"reports/junit.xml"}, ArchiveFormat::kRaw));
  ASSERT_TRUE(raw.ok()) << raw.status().ToString();
  std::ifstream in(raw->path, std::ios::binary);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), junit);

  // Two reports: two gzip members in path order, as GitLab reads a multi-file junit report.
  Write("reports/second.xml", "<testsuites>2</testsuites>");
  Result<StagedArchive> two = BuildArchive(Spec({"reports/*.xml"}, ArchiveFormat::kGzip));
  ASSERT_TRUE(two.ok()) << two.status().ToString();
  EXPECT_EQ(two->entries, 2u);
  EXPECT_EQ(gunzip(two->path), junit + "<testsuites>2</testsuites>");
  std::ifstream gz_in(two->path, std::ios::binary);
  std::string bytes(std::istreambuf_iterator<char>(gz_in), {});
  // Each member's header names its file (FNAME), so GitLab can tell the reports apart.
  EXPECT_NE(bytes.find(std::string("reports/junit.xml") + '\0'), std::string::npos);
  EXPECT_NE(bytes.find(std::string("reports/second.xml") + '\0'), std::string::npos);

  Result<StagedArchive> raw_two = BuildArchive(Spec({"reports/*.xml"}, ArchiveFormat::kRaw));
  ASSERT_FALSE(raw_two.ok());
  EXPECT_NE(raw_two.status().message().find("exactly one"), std::string::npos);
}

}  // namespace
}  // namespace stagehost::artifacts
