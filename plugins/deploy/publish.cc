// publish.cc -- the three artifact stores and the release protocol (see publish.h).
#include "publish.h"

#include <fcntl.h>
#include <stagehost/stage.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "http.h"
#include "sigv4.h"

namespace stagehost::deploy {

namespace fs = std::filesystem;
using sdk::BadConfig;
using sdk::InfraError;

namespace {

std::string Required(const EnvLookup& env, const std::string& variable, const std::string& what) {
  std::optional<std::string> v = env(variable);
  if (!v || v->empty()) {
    throw BadConfig(what + ": the variable " + variable + " is not set (it must hold the secret)");
  }
  return *v;
}

// Hashes a GET response as it streams in: the store's copy is checked without holding it.
std::optional<std::string> StreamedDigest(HttpRequest request, const std::string& what) {
  Sha256Stream sha;
  request.sink = [&](std::string_view chunk) {
    sha.Update(chunk);
    return true;
  };
  request.timeout_ms = 3600000;
  HttpResponse r = HttpCall(request);
  if (r.status == 404) return std::nullopt;
  if (!r.ok()) throw InfraError("reading back " + what + ": " + r.Describe());
  return sha.FinalHex();
}

// ---------------------------------------------------------------------------------------------
// Local or NFS directory.

class DirectoryStore : public ArtifactStore {
 public:
  explicit DirectoryStore(fs::path root) : root_(std::move(root)) {}

  std::optional<std::string> ExistingDigest(const std::string& key) override {
    const fs::path p = root_ / key;
    std::error_code ec;
    if (!fs::exists(p, ec)) return std::nullopt;
    return HashFile(p.string()).sha256;
  }

  void PutFile(const std::string& key, const std::string& path, const FileDigest& digest) override {
    const fs::path target = root_ / key;
    WriteAtomically(target, [&](int out) {
      int in = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      if (in < 0) throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
      std::vector<char> buffer(1 << 20);
      for (;;) {
        ssize_t n = ::read(in, buffer.data(), buffer.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
          ::close(in);
          throw InfraError("reading " + path + ": " + std::strerror(errno));
        }
        if (n == 0) break;
        WriteAll(out, std::string_view(buffer.data(), static_cast<size_t>(n)), target);
      }
      ::close(in);
    });
    // Read back what landed: NFS and full disks fail in quiet ways.
    const FileDigest stored = HashFile(target.string());
    if (stored.sha256 != digest.sha256) {
      throw InfraError("read-back of " + target.string() + " gave sha256 " + stored.sha256 +
                       ", expected " + digest.sha256);
    }
  }

  std::optional<std::string> GetSmall(const std::string& key) override {
    const fs::path p = root_ / key;
    std::error_code ec;
    if (!fs::exists(p, ec)) return std::nullopt;
    int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw InfraError("cannot open " + p.string() + ": " + std::strerror(errno));
    std::string out;
    char buf[8192];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
    ::close(fd);
    return out;
  }

  void PutSmall(const std::string& key, const std::string& contents, const std::string&) override {
    const fs::path target = root_ / key;
    WriteAtomically(target, [&](int out) { WriteAll(out, contents, target); });
  }

  std::string Url(const std::string& key) const override {
    return "file://" + (root_ / key).string();
  }
  std::string Describe() const override { return "directory " + root_.string(); }

 private:
  static void WriteAll(int fd, std::string_view data, const fs::path& target) {
    while (!data.empty()) {
      ssize_t n = ::write(fd, data.data(), data.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw InfraError("writing " + target.string() + ": " + std::strerror(errno));
      data.remove_prefix(static_cast<size_t>(n));
    }
  }

  // Writes a temporary file beside the target, fsyncs it, then renames it over: readers see the
  // old file or the whole new one, never a partial one.
  template <typename Fill>
  static void WriteAtomically(const fs::path& target, Fill fill) {
    std::error_code ec;
    fs::create_directories(target.parent_path(), ec);
    if (ec)
      throw InfraError("cannot create " + target.parent_path().string() + ": " + ec.message());
    const fs::path tmp = target.string() + ".tmp-" + std::to_string(::getpid());
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) throw InfraError("cannot create " + tmp.string() + ": " + std::strerror(errno));
    try {
      fill(fd);
      if (::fsync(fd) != 0) throw InfraError("fsync " + tmp.string() + ": " + std::strerror(errno));
    } catch (...) {
      ::close(fd);
      ::unlink(tmp.c_str());
      throw;
    }
    ::close(fd);
    if (::rename(tmp.c_str(), target.c_str()) != 0) {
      int err = errno;
      ::unlink(tmp.c_str());
      throw InfraError("rename to " + target.string() + ": " + std::strerror(err));
    }
  }

  fs::path root_;
};

// ---------------------------------------------------------------------------------------------
// HTTP repository (Artifactory / Nexus raw / WebDAV PUT).

class HttpStore : public ArtifactStore {
 public:
  HttpStore(const HttpStoreConfig& config, const EnvLookup& env, const Hooks& hooks)
      : config_(config), hooks_(hooks) {
    if (!config.username_variable.empty()) {
      basic_auth_ = Required(env, config.username_variable, "publish.http.username_variable") +
                    ":" + Required(env, config.password_variable, "publish.http.password_variable");
    }
    if (!config.token_variable.empty()) {
      bearer_ = "Authorization: Bearer " +
                Required(env, config.token_variable, "publish.http.token_variable");
    }
  }

  std::optional<std::string> ExistingDigest(const std::string& key) override {
    HttpRequest head = Base("HEAD", key);
    HttpResponse r = HttpCall(head);
    if (r.status == 404) return std::nullopt;
    if (!r.ok()) throw InfraError("HEAD " + Url(key) + ": " + r.Describe());
    // Artifactory answers with the stored checksum; others must be read back.
    auto it = r.headers.find("x-checksum-sha256");
    if (it != r.headers.end() && it->second.size() == 64) return it->second;
    return StreamedDigest(Base("GET", key), Url(key));
  }

  void PutFile(const std::string& key, const std::string& path, const FileDigest& digest) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
    HttpRequest put = Base("PUT", key);
    put.upload_fd = fd;
    put.upload_length = digest.size;
    put.timeout_ms = 3600000;
    put.headers.push_back("Content-Type: application/octet-stream");
    if (config_.checksum_headers) put.headers.push_back("X-Checksum-Sha256: " + digest.sha256);
    HttpResponse r = HttpCall(put);
    ::close(fd);
    if (!r.ok()) throw InfraError("PUT " + Url(key) + ": " + r.Describe());
    if (config_.read_back) {
      std::optional<std::string> stored = StreamedDigest(Base("GET", key), Url(key));
      if (stored != digest.sha256) {
        throw InfraError("read-back of " + Url(key) + " gave sha256 " +
                         stored.value_or("(missing)") + ", expected " + digest.sha256);
      }
    }
  }

  std::optional<std::string> GetSmall(const std::string& key) override {
    HttpResponse r = HttpCall(Base("GET", key));
    if (r.status == 404) return std::nullopt;
    if (!r.ok()) throw InfraError("GET " + Url(key) + ": " + r.Describe());
    return r.body;
  }

  void PutSmall(const std::string& key, const std::string& contents,
                const std::string& media_type) override {
    HttpRequest put = Base("PUT", key);
    put.body = contents;
    put.headers.push_back("Content-Type: " + media_type);
    if (config_.checksum_headers)
      put.headers.push_back("X-Checksum-Sha256: " + Sha256Hex(contents));
    HttpResponse r = HttpCall(put);
    if (!r.ok()) throw InfraError("PUT " + Url(key) + ": " + r.Describe());
  }

  std::string Url(const std::string& key) const override {
    return RedactUrl(config_.url) + "/" + UriEncode(key, true);
  }
  std::string Describe() const override { return "HTTP repository " + RedactUrl(config_.url); }

 private:
  HttpRequest Base(const char* method, const std::string& key) const {
    HttpRequest r;
    r.method = method;
    r.url = config_.url + "/" + UriEncode(key, true);
    r.basic_auth = basic_auth_;
    if (!bearer_.empty()) r.headers.push_back(bearer_);
    r.cancelled = [this] {
      try {
        hooks_.check_cancelled();
        return false;
      } catch (...) {
        return true;
      }
    };
    return r;
  }

  HttpStoreConfig config_;
  Hooks hooks_;
  std::string basic_auth_, bearer_;
};

// ---------------------------------------------------------------------------------------------
// S3-compatible object store, path-style, Signature V4.

class S3Store : public ArtifactStore {
 public:
  S3Store(const S3Config& config, const EnvLookup& env, const Hooks& hooks)
      : config_(config), hooks_(hooks) {
    creds_.access_key_id =
        Required(env, config.access_key_id_variable, "publish.s3.access_key_id_variable");
    creds_.secret_access_key =
        Required(env, config.secret_access_key_variable, "publish.s3.secret_access_key_variable");
    if (!config.session_token_variable.empty()) {
      creds_.session_token =
          Required(env, config.session_token_variable, "publish.s3.session_token_variable");
    }
  }

  std::optional<std::string> ExistingDigest(const std::string& key) override {
    HttpResponse r = Call("HEAD", key, {}, {}, kEmptySha256);
    if (r.status == 404) return std::nullopt;
    if (!r.ok()) throw InfraError("S3 HEAD " + Url(key) + ": " + r.Describe());
    auto it = r.headers.find("x-amz-meta-sha256");
    if (it != r.headers.end() && it->second.size() == 64) return it->second;
    // Uploaded by something else: hash the stored bytes.
    HttpRequest get = Signed("GET", key, {}, {}, kEmptySha256);
    return StreamedDigest(get, Url(key));
  }

  void PutFile(const std::string& key, const std::string& path, const FileDigest& digest) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
    try {
      if (digest.size >= config_.multipart_threshold) {
        Multipart(key, fd, digest);
      } else {
        HttpRequest put =
            Signed("PUT", key, {}, {{"x-amz-meta-sha256", digest.sha256}}, digest.sha256);
        put.upload_fd = fd;
        put.upload_length = digest.size;
        put.timeout_ms = 3600000;
        HttpResponse r = HttpCall(put);
        if (!r.ok()) throw InfraError("S3 PUT " + Url(key) + ": " + r.Describe());
      }
    } catch (...) {
      ::close(fd);
      throw;
    }
    ::close(fd);
    // The store's view afterwards: size and the digest recorded with the object.
    HttpResponse head = Call("HEAD", key, {}, {}, kEmptySha256);
    if (!head.ok()) throw InfraError("S3 HEAD after upload " + Url(key) + ": " + head.Describe());
    auto meta = head.headers.find("x-amz-meta-sha256");
    auto length = head.headers.find("content-length");
    if (meta == head.headers.end() || meta->second != digest.sha256 ||
        length == head.headers.end() || length->second != std::to_string(digest.size)) {
      throw InfraError("S3 object " + Url(key) + " does not match after upload (size " +
                       (length == head.headers.end() ? "?" : length->second) + ", expected " +
                       std::to_string(digest.size) + ")");
    }
  }

  std::optional<std::string> GetSmall(const std::string& key) override {
    HttpResponse r = Call("GET", key, {}, {}, kEmptySha256);
    if (r.status == 404) return std::nullopt;
    if (!r.ok()) throw InfraError("S3 GET " + Url(key) + ": " + r.Describe());
    return r.body;
  }

  void PutSmall(const std::string& key, const std::string& contents,
                const std::string& media_type) override {
    const std::string sha = Sha256Hex(contents);
    HttpRequest put =
        Signed("PUT", key, {}, {{"content-type", media_type}, {"x-amz-meta-sha256", sha}}, sha);
    put.body = contents;
    HttpResponse r = HttpCall(put);
    if (!r.ok()) throw InfraError("S3 PUT " + Url(key) + ": " + r.Describe());
  }

  std::string Url(const std::string& key) const override { return config_.endpoint + Path(key); }
  std::string Describe() const override {
    return "S3 bucket " + config_.bucket + " at " + config_.endpoint;
  }

 private:
  static constexpr const char* kEmptySha256 =
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  using Pairs = std::vector<std::pair<std::string, std::string>>;

  std::string Path(const std::string& key) const {
    return "/" + config_.bucket + "/" + UriEncode(key, true);
  }

  HttpRequest Signed(const std::string& method, const std::string& key, const Pairs& query,
                     const Pairs& headers, const std::string& payload_sha256) const {
    SigV4Request sr;
    sr.method = method;
    sr.path = Path(key);
    sr.query = query;
    const std::string amz_date = AmzDate(std::time(nullptr));
    sr.headers = headers;
    sr.headers.emplace_back("host", UrlHostPort(config_.endpoint));
    sr.headers.emplace_back("x-amz-date", amz_date);
    sr.headers.emplace_back("x-amz-content-sha256", payload_sha256);
    if (!creds_.session_token.empty())
      sr.headers.emplace_back("x-amz-security-token", creds_.session_token);
    sr.payload_sha256 = payload_sha256;
    const SigV4Result sig = SignV4(sr, creds_, config_.region, "s3", amz_date);
    HttpRequest r;
    r.method = method;
    r.url = config_.endpoint + sr.path;
    std::string qs;
    for (const auto& [k, v] : query)
      qs += (qs.empty() ? "?" : "&") + UriEncode(k, false) + "=" + UriEncode(v, false);
    r.url += qs;
    for (const auto& [name, value] : sr.headers) {
      if (name != "host") r.headers.push_back(name + ": " + value);
    }
    r.headers.push_back("Authorization: " + sig.authorization);
    r.cancelled = [this] {
      try {
        hooks_.check_cancelled();
        return false;
      } catch (...) {
        return true;
      }
    };
    return r;
  }

  HttpResponse Call(const std::string& method, const std::string& key, const Pairs& query,
                    const Pairs& headers, const std::string& payload_sha256,
                    const std::string& body = {}) {
    HttpRequest r = Signed(method, key, query, headers, payload_sha256);
    r.body = body;
    return HttpCall(r);
  }

  static std::string XmlTag(const std::string& xml, const std::string& tag) {
    size_t a = xml.find("<" + tag + ">");
    size_t b = xml.find("</" + tag + ">");
    if (a == std::string::npos || b == std::string::npos || b < a) return {};
    a += tag.size() + 2;
    return xml.substr(a, b - a);
  }

  // CreateMultipartUpload, parts in parallel (each part hashed for its signature, then streamed
  // from the file with pread), CompleteMultipartUpload; AbortMultipartUpload on any failure so no
  // orphaned parts are billed.
  void Multipart(const std::string& key, int fd, const FileDigest& digest) {
    std::uint64_t part_size = config_.part_size;
    while ((digest.size + part_size - 1) / part_size > 10000) part_size *= 2;
    const std::uint64_t parts =
        std::max<std::uint64_t>(1, (digest.size + part_size - 1) / part_size);
    HttpResponse created =
        Call("POST", key, {{"uploads", ""}},
             {{"x-amz-meta-sha256", digest.sha256}, {"content-type", "application/octet-stream"}},
             kEmptySha256);
    const std::string upload_id = XmlTag(created.body, "UploadId");
    if (!created.ok() || upload_id.empty()) {
      throw InfraError("S3 CreateMultipartUpload " + Url(key) + ": " + created.Describe());
    }
    hooks_.info("deploy: multipart upload of " + key + ": " + std::to_string(parts) + " parts of " +
                std::to_string(part_size >> 20) + " MiB, " +
                std::to_string(config_.parallel_parts) + " at once");
    std::vector<std::string> etags(parts);
    std::atomic<std::uint64_t> next{0};
    std::atomic<bool> failed{false};
    std::mutex error_mutex;
    std::string error;
    auto worker = [&] {
      for (;;) {
        const std::uint64_t index = next.fetch_add(1);
        if (index >= parts || failed.load()) return;
        const std::uint64_t offset = index * part_size;
        const std::uint64_t length = std::min(part_size, digest.size - offset);
        std::string problem;
        for (int attempt = 1; attempt <= 3; ++attempt) {
          try {
            const FileDigest part = HashFile("/proc/self/fd/" + std::to_string(fd), offset, length);
            HttpRequest put = Signed(
                "PUT", key, {{"partNumber", std::to_string(index + 1)}, {"uploadId", upload_id}},
                {}, part.sha256);
            put.upload_fd = fd;
            put.upload_offset = offset;
            put.upload_length = length;
            put.timeout_ms = 600000;
            HttpResponse r = HttpCall(put);
            auto etag = r.headers.find("etag");
            if (r.ok() && etag != r.headers.end()) {
              etags[index] = etag->second;
              problem.clear();
              break;
            }
            problem = r.Describe();
            if (r.error == "cancelled" || (r.status >= 400 && r.status < 500)) break;  // no retry
          } catch (const std::exception& e) {
            problem = e.what();
          }
        }
        if (!problem.empty()) {
          std::lock_guard<std::mutex> lock(error_mutex);
          if (!failed.exchange(true)) error = "part " + std::to_string(index + 1) + ": " + problem;
          return;
        }
      }
    };
    std::vector<std::thread> threads;
    const int n = static_cast<int>(
        std::min<std::uint64_t>(parts, static_cast<std::uint64_t>(config_.parallel_parts)));
    for (int i = 0; i < n; ++i) threads.emplace_back(worker);
    for (std::thread& t : threads) t.join();
    if (!failed) hooks_.check_cancelled();  // throws on cancel; abort below would be skipped, so:
    if (failed) {
      HttpResponse aborted = Call("DELETE", key, {{"uploadId", upload_id}}, {}, kEmptySha256);
      throw InfraError(
          "S3 multipart upload of " + Url(key) + " failed at " + error +
          (aborted.ok() ? " (upload aborted)" : " (abort failed too: " + aborted.Describe() + ")"));
    }
    std::string xml = "<CompleteMultipartUpload>";
    for (std::uint64_t i = 0; i < parts; ++i) {
      xml += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" + etags[i] +
             "</ETag></Part>";
    }
    xml += "</CompleteMultipartUpload>";
    HttpResponse done = Call("POST", key, {{"uploadId", upload_id}},
                             {{"content-type", "application/xml"}}, Sha256Hex(xml), xml);
    // S3 may answer 200 and put an <Error> in the body.
    if (!done.ok() || done.body.find("<Error>") != std::string::npos) {
      Call("DELETE", key, {{"uploadId", upload_id}}, {}, kEmptySha256);
      throw InfraError("S3 CompleteMultipartUpload " + Url(key) + ": " + done.Describe());
    }
  }

  S3Config config_;
  Hooks hooks_;
  SigV4Credentials creds_;
};

nlohmann::json ManifestJson(const std::string& name, const std::string& version,
                            const std::vector<PublishedObject>& objects) {
  nlohmann::json files = nlohmann::json::array();
  for (const PublishedObject& o : objects) {
    files.push_back({{"name", o.file}, {"sha256", o.sha256}, {"size", o.size}, {"key", o.key}});
  }
  return {{"name", name}, {"version", version}, {"files", files}};
}

// The (file, digest) pairs of a manifest, the part that decides whether two releases are equal.
std::vector<std::pair<std::string, std::string>> ManifestDigests(const nlohmann::json& m) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& f : m.at("files"))
    out.emplace_back(f.at("name").get<std::string>(), f.at("sha256").get<std::string>());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

std::unique_ptr<ArtifactStore> MakeStore(const PublishConfig& config, const std::string& workspace,
                                         const EnvLookup& env, const Hooks& hooks) {
  switch (config.store) {
    case Store::kS3:
      return std::make_unique<S3Store>(config.s3, env, hooks);
    case Store::kHttp:
      return std::make_unique<HttpStore>(config.http, env, hooks);
    case Store::kDirectory: {
      fs::path root(config.directory);
      if (root.is_relative()) root = fs::path(workspace) / root;
      return std::make_unique<DirectoryStore>(root.lexically_normal());
    }
    case Store::kNone:
      break;
  }
  throw BadConfig("publish.store: not configured");
}

std::string BlobKey(const PublishConfig& config, const std::string& name, const LocalArtifact& a) {
  return (config.prefix.empty() ? "" : config.prefix + "/") + name + "/sha256/" + a.digest.sha256 +
         "/" + a.file;
}

std::string ManifestKey(const PublishConfig& config, const std::string& name,
                        const std::string& version) {
  return (config.prefix.empty() ? "" : config.prefix + "/") + name + "/versions/" + version +
         ".json";
}

PublishResult Publish(ArtifactStore& store, const PublishConfig& config, const std::string& name,
                      const std::string& version, const std::vector<LocalArtifact>& artifacts,
                      const std::vector<std::pair<std::string, std::string>>& extra,
                      const Hooks& hooks) {
  PublishResult result;
  for (const LocalArtifact& a : artifacts) {
    PublishedObject o;
    o.file = a.file;
    o.key = BlobKey(config, name, a);
    o.url = store.Url(o.key);
    o.sha256 = a.digest.sha256;
    o.size = a.digest.size;
    result.objects.push_back(o);
  }
  result.manifest_key = ManifestKey(config, name, version);
  result.manifest_url = store.Url(result.manifest_key);
  const nlohmann::json manifest = ManifestJson(name, version, result.objects);

  // The release check comes first, so a conflicting re-release uploads nothing.
  if (std::optional<std::string> existing = store.GetSmall(result.manifest_key)) {
    nlohmann::json old;
    try {
      old = nlohmann::json::parse(*existing);
      if (ManifestDigests(old) != ManifestDigests(manifest)) {
        std::string detail;
        for (const auto& [file, sha] : ManifestDigests(old))
          detail += " " + file + "@sha256:" + sha.substr(0, 12);
        throw ReleaseConflict("version " + version + " of " + name +
                              " is already released with other content (" + result.manifest_url +
                              ":" + detail +
                              "); released versions are never overwritten: bump the version");
      }
    } catch (const nlohmann::json::exception& e) {
      throw InfraError("the store's manifest " + result.manifest_url +
                       " is not valid JSON: " + e.what());
    }
    result.already_released = true;
    hooks.info("deploy: version " + version +
               " is already released with the same digests; nothing to upload");
    return result;
  }

  for (size_t i = 0; i < artifacts.size(); ++i) {
    hooks.check_cancelled();
    PublishedObject& o = result.objects[i];
    std::optional<std::string> have = store.ExistingDigest(o.key);
    if (have && *have == o.sha256) {
      hooks.info("deploy: " + o.file + " already stored as " + o.url + " (same sha256), skipped");
      continue;
    }
    if (have) {
      hooks.warn("deploy: " + o.url + " holds sha256 " + *have + ", not " + o.sha256 +
                 "; replacing the damaged blob");
    }
    const auto start = std::chrono::steady_clock::now();
    store.PutFile(o.key, artifacts[i].path, artifacts[i].digest);
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    o.uploaded = true;
    char rate[64];
    std::snprintf(rate, sizeof rate, "%.1f MB/s",
                  secs > 0 ? static_cast<double>(o.size) / 1e6 / secs : 0.0);
    hooks.info("deploy: uploaded " + o.file + " (" + std::to_string(o.size) + " bytes, " + rate +
               ") to " + o.url);
  }
  for (const auto& [suffix, contents] : extra) {
    const std::string key =
        (config.prefix.empty() ? "" : config.prefix + "/") + name + "/versions/" + version + suffix;
    store.PutSmall(key, contents, "application/json");
  }
  // The manifest last: a version is visible only once all its blobs are in place.
  store.PutSmall(result.manifest_key, manifest.dump(2) + "\n", "application/json");
  hooks.info("deploy: released " + name + " " + version + " (" + result.manifest_url + ")");
  return result;
}

}  // namespace stagehost::deploy
