// SPDX-License-Identifier: Apache-2.0
#include "outputs/elasticsearch/es_output.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <vector>

#include <curl/curl.h>
#include <openssl/ssl.h>
#include <zlib.h>

#include "beat/core/logging.h"
#include "outputs/common/codec.h"
#include "outputs/common/format_string.h"
#include "outputs/common/test_driver.h"
#include "outputs/common/tls.h"
#include "outputs/elasticsearch/bulk_protocol.h"

#include <netdb.h>

namespace sipbeat::outputs::elasticsearch {

namespace {

const core::logging::Logger kLog("elasticsearch");

// Answers larger than this are cut off: a bulk answer with filter_path is small, so
// anything bigger is not Elasticsearch and must not exhaust memory.
constexpr size_t kMaxResponseBytes = 64u << 20;

std::string toLower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

std::string base64(std::string_view in) {
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((in.size() + 2) / 3 * 4);
    size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        const uint32_t v = (uint32_t{static_cast<unsigned char>(in[i])} << 16) |
                           (uint32_t{static_cast<unsigned char>(in[i + 1])} << 8) |
                           uint32_t{static_cast<unsigned char>(in[i + 2])};
        out.push_back(kAlphabet[(v >> 18) & 63]);
        out.push_back(kAlphabet[(v >> 12) & 63]);
        out.push_back(kAlphabet[(v >> 6) & 63]);
        out.push_back(kAlphabet[v & 63]);
    }
    if (i < in.size()) {
        uint32_t v = uint32_t{static_cast<unsigned char>(in[i])} << 16;
        if (i + 1 < in.size()) {
            v |= uint32_t{static_cast<unsigned char>(in[i + 1])} << 8;
        }
        out.push_back(kAlphabet[(v >> 18) & 63]);
        out.push_back(kAlphabet[(v >> 12) & 63]);
        out.push_back(i + 1 < in.size() ? kAlphabet[(v >> 6) & 63] : '=');
        out.push_back('=');
    }
    return out;
}

std::string urlEncode(std::string_view s) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (std::isalnum(u) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
            out.push_back(c);
        } else {
            out.push_back('%');
            out.push_back(kHex[u >> 4]);
            out.push_back(kHex[u & 15]);
        }
    }
    return out;
}

bool isLoopback(std::string_view host) {
    return host == "localhost" || host == "::1" || host.starts_with("127.");
}

std::string machineArch() {
    struct utsname u {};
    if (uname(&u) != 0) {
        return "unknown";
    }
    const std::string m = u.machine;
    // Go's GOARCH names, as libbeat's User-Agent carries them.
    if (m == "x86_64") {
        return "amd64";
    }
    if (m == "aarch64") {
        return "arm64";
    }
    return m;
}

core::Result<std::string> readPem(const std::string& value, const std::string& key,
                                  const config::Config& cfg) {
    if (isInlinePem(value)) {
        return value;
    }
    std::ifstream in(value, std::ios::binary);
    if (!in) {
        return core::Status::error("cannot read file '" + value + "' accessing '" + key + "' " +
                                   cfg.originOf(key).describe());
    }
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

/// Everything the clients of one output share, read once from the config.
struct Settings {
    std::string describe_prefix = "elasticsearch";
    std::string username;
    std::string password;
    std::string api_key_header;  ///< "Authorization: ApiKey …" or empty
    std::vector<std::pair<std::string, std::string>> headers;  ///< user `headers`
    std::string bulk_query;                                    ///< "?filter_path=…&param=…"
    std::string user_agent;
    Selector index;
    Selector pipeline;
    std::string dead_letter_index;  ///< empty: non-indexable events are dropped
    int compression_level = 1;
    bool escape_html = false;
    int64_t timeout_ms = 90'000;
    int64_t idle_timeout_s = 3;
    bool allow_older_versions = true;
    std::string beat_version;
    std::string proxy_url;
    bool proxy_disable = false;
    std::vector<std::string> proxy_headers;
    TlsSettings tls;
    std::string ca_pem;
    std::string cert_pem;
    std::string key_pem;
    bool tls_on = false;  ///< ssl section enabled
    monitoring::Counter* write_bytes = nullptr;
    monitoring::Counter* write_errors = nullptr;
    monitoring::Counter* read_bytes = nullptr;
    monitoring::Counter* read_errors = nullptr;
    monitoring::Counter* duplicates = nullptr;
    monitoring::Counter* too_many = nullptr;
    monitoring::Counter* dead_letter = nullptr;
};

void count(monitoring::Counter* c, uint64_t n = 1) {
    if (c != nullptr && n > 0) {
        c->add(n);
    }
}

size_t collectBody(char* data, size_t size, size_t nmemb, void* user) {
    auto* out = static_cast<std::string*>(user);
    const size_t n = size * nmemb;
    if (out->size() + n > kMaxResponseBytes) {
        return 0;  // aborts the transfer: CURLE_WRITE_ERROR
    }
    out->append(data, n);
    return n;
}

struct SlistDeleter {
    void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

struct CurlDeleter {
    void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
using CurlHandle = std::unique_ptr<CURL, CurlDeleter>;

/// Default headers first, then the user's: a user header of the same name replaces the
/// default (libbeat: Content-Type and Accept replace, others add).
Slist makeHeaders(std::vector<std::pair<std::string, std::string>> defaults, const Settings& s) {
    for (const auto& header : s.headers) {
        auto same = std::find_if(defaults.begin(), defaults.end(), [&](const auto& d) {
            return equalsIgnoreCase(d.first, header.first);
        });
        if (same != defaults.end()) {
            same->second = header.second;
        } else {
            defaults.push_back(header);
        }
    }
    curl_slist* list = nullptr;
    for (const auto& [name, value] : defaults) {
        list = curl_slist_append(list, (name + ": " + value).c_str());
    }
    if (!s.api_key_header.empty()) {
        list = curl_slist_append(list, s.api_key_header.c_str());
    }
    // No "Expect: 100-continue" round trip before large bodies.
    list = curl_slist_append(list, "Expect:");
    return Slist(list);
}

/// Where one bulk item lives in the request body.
struct PreparedItem {
    uint32_t event = 0;  ///< index in the batch
    size_t begin = 0;    ///< action line start
    size_t end = 0;      ///< after the source line
    size_t source = 0;   ///< source line start (== end for delete)
};

/// What became of the items of one batch.
struct Outcome {
    std::vector<uint32_t> retry;
    uint32_t dropped = 0;
    struct DeadLetter {
        size_t item;
        int status;
        std::string error;
    };
    std::vector<DeadLetter> dead;
};

class EsClient final : public Client {
public:
    EsClient(std::shared_ptr<const Settings> settings, std::vector<HostUrl> hosts, size_t first)
        : s_(std::move(settings)),
          hosts_(std::move(hosts)),
          current_(first % hosts_.size()),
          codec_(CodecSettings{false, s_->escape_html, {}}) {
        get_headers_ = makeHeaders({{"Accept", "application/json"},
                                    {"User-Agent", s_->user_agent},
                                    {"X-Elastic-Product-Origin", "beats"}},
                                   *s_);
        std::vector<std::pair<std::string, std::string>> bulk = {
            {"Accept", "application/json"},
            {"User-Agent", s_->user_agent},
            {"X-Elastic-Product-Origin", "beats"},
            {"Content-Type", "application/json; charset=UTF-8"}};
        bulk_headers_ = makeHeaders(bulk, *s_);
        bulk.emplace_back("Content-Encoding", "gzip");
        gzip_headers_ = makeHeaders(bulk, *s_);
        curl_slist* proxy = nullptr;
        for (const std::string& h : s_->proxy_headers) {
            proxy = curl_slist_append(proxy, h.c_str());
        }
        proxy_headers_.reset(proxy);
    }

    core::Status connect() override {
        core::Status last = core::Status::error("no hosts");
        for (size_t tried = 0; tried < hosts_.size(); ++tried) {
            last = connectTo(hosts_[current_]);
            if (last) {
                return last;
            }
            if (hosts_.size() > 1) {
                kLog.warn("Failed to connect to " + hosts_[current_].base() + ": " +
                          last.message() + "; failing over to the next host");
                current_ = (current_ + 1) % hosts_.size();
            }
        }
        return last;
    }

    core::Status publish(BatchPtr batch) override {
        if (!curl_) {
            if (core::Status st = connect(); !st) {
                batch->cancel();
                return st;
            }
        }
        const std::span<const encode::EncodedEvent> events = batch->events();
        Outcome outcome;
        prepare(events, outcome);
        core::Status st = core::Status::ok();
        if (!items_.empty()) {
            st = sendRange(0, items_.size(), outcome);
            if (st && !outcome.dead.empty()) {
                st = sendDeadLetters(outcome);
            }
        }
        if (!st) {
            // The connection is broken: the next batch goes after a new connect (and,
            // without load balancing, to the next host).
            curl_.reset();
            if (hosts_.size() > 1) {
                current_ = (current_ + 1) % hosts_.size();
            }
        }
        signal(*batch, events.size(), outcome);
        return st;
    }

    void close() override { curl_.reset(); }

    std::string describe() const override {
        return s_->describe_prefix + "(" + hosts_[current_].base() + ")";
    }

    void test(TestDriver& driver) override {
        for (const HostUrl& host : hosts_) {
            testHost(driver, host);
        }
    }

private:
    // --- connection ---------------------------------------------------------------

    core::Status connectTo(const HostUrl& host) {
        curl_.reset(curl_easy_init());
        if (!curl_) {
            return core::Status::error("cannot create a libcurl handle");
        }
        std::string body;
        long status = 0;
        const std::string url = host.base() + "/";
        if (CURLcode rc = perform(host, url, nullptr, false, body, status); rc != CURLE_OK) {
            curl_.reset();
            return core::Status::error("error connecting to Elasticsearch at " + host.base() +
                                       ": " + error_.data());
        }
        count(s_->read_bytes, body.size());
        if (status != 200) {
            curl_.reset();
            return core::Status::error("connection to Elasticsearch at " + host.base() +
                                       " failed: HTTP status " + std::to_string(status) + ": " +
                                       body.substr(0, 512));
        }
        core::Result<std::string> number = parseRootResponse(body);
        if (!number) {
            count(s_->read_errors);
            curl_.reset();
            return number.status();
        }
        const EsVersion es = *EsVersion::parse(*number);
        if (core::Status st = checkVersion(es, *number); !st) {
            curl_.reset();
            return st;
        }
        version_ = es;
        connected_host_ = &host;
        return core::Status::ok();
    }

    core::Status checkVersion(const EsVersion& es, const std::string& number) const {
        if (es.major < 7) {
            return core::Status::error("Elasticsearch " + number +
                                       " is not supported: version 7.0.0 or newer is required");
        }
        if (!s_->allow_older_versions) {
            if (std::optional<EsVersion> beat = EsVersion::parse(s_->beat_version);
                beat && es.lessThan(*beat)) {
                return core::Status::error(
                    "Elasticsearch is too old. Please upgrade the instance. If you would like "
                    "to connect to older instances set output.elasticsearch.allow_older_versions "
                    "to true. ES=" +
                    number + ", Beat=" + s_->beat_version);
            }
        }
        return core::Status::ok();
    }

    void applyTransport(CURL* c, const HostUrl& host) {
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(s_->timeout_ms));
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(s_->timeout_ms));
        curl_easy_setopt(c, CURLOPT_MAXAGE_CONN, static_cast<long>(s_->idle_timeout_s));
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error_.data());
        const std::string& user = s_->username.empty() ? host.username : s_->username;
        const std::string& pass = s_->username.empty() ? host.password : s_->password;
        if (!user.empty()) {
            curl_easy_setopt(c, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
            curl_easy_setopt(c, CURLOPT_USERNAME, user.c_str());
            curl_easy_setopt(c, CURLOPT_PASSWORD, pass.c_str());
        }
        if (s_->proxy_disable) {
            curl_easy_setopt(c, CURLOPT_PROXY, "");
        } else if (!s_->proxy_url.empty()) {
            curl_easy_setopt(c, CURLOPT_PROXY, s_->proxy_url.c_str());
            if (proxy_headers_) {
                curl_easy_setopt(c, CURLOPT_PROXYHEADER, proxy_headers_.get());
                curl_easy_setopt(c, CURLOPT_HEADEROPT, static_cast<long>(CURLHEADER_SEPARATE));
            }
        } else if (isLoopback(host.host)) {
            // Go's ProxyFromEnvironment never proxies loopback; libcurl would.
            curl_easy_setopt(c, CURLOPT_PROXY, "");
        }
        if (host.scheme == "https") {
            applyTls(c);
        }
    }

    /// CURLOPT_SSL_CTX_FUNCTION: libcurl's OpenSSL context gets the pinned CA check.
    static CURLcode pinOnContext(CURL* /*curl*/, void* ssl_ctx, void* fingerprint) {
        pinTrustedCa(ssl_ctx, static_cast<const std::string*>(fingerprint));
        return CURLE_OK;
    }

    void applyTls(CURL* c) const {
        const TlsSettings& t = s_->tls;
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, t.verifyPeer() ? 1L : 0L);
        if (t.verifyPeer() && !t.ca_trusted_fingerprint.empty()) {
            curl_easy_setopt(c, CURLOPT_SSL_CTX_FUNCTION, &pinOnContext);
            curl_easy_setopt(c, CURLOPT_SSL_CTX_DATA,
                             const_cast<std::string*>(&t.ca_trusted_fingerprint));
        }
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, t.verifyHost() ? 2L : 0L);
        if (!s_->ca_pem.empty()) {
            curl_blob blob{const_cast<char*>(s_->ca_pem.data()), s_->ca_pem.size(), CURL_BLOB_COPY};
            curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &blob);
        }
        if (!s_->cert_pem.empty()) {
            curl_blob cert{const_cast<char*>(s_->cert_pem.data()), s_->cert_pem.size(),
                           CURL_BLOB_COPY};
            curl_easy_setopt(c, CURLOPT_SSLCERT_BLOB, &cert);
            curl_easy_setopt(c, CURLOPT_SSLCERTTYPE, "PEM");
        }
        if (!s_->key_pem.empty()) {
            curl_blob key{const_cast<char*>(s_->key_pem.data()), s_->key_pem.size(),
                          CURL_BLOB_COPY};
            curl_easy_setopt(c, CURLOPT_SSLKEY_BLOB, &key);
            curl_easy_setopt(c, CURLOPT_SSLKEYTYPE, "PEM");
            if (!t.key_passphrase.empty()) {
                curl_easy_setopt(c, CURLOPT_KEYPASSWD, t.key_passphrase.c_str());
            }
        }
        curl_easy_setopt(c, CURLOPT_SSLVERSION,
                         static_cast<long>(tlsMin(t.min_version) | tlsMax(t.max_version)));
    }

    static long tlsMin(const std::string& v) {
        if (v == "TLSv1.0") {
            return CURL_SSLVERSION_TLSv1_0;
        }
        if (v == "TLSv1.1") {
            return CURL_SSLVERSION_TLSv1_1;
        }
        if (v == "TLSv1.3") {
            return CURL_SSLVERSION_TLSv1_3;
        }
        return CURL_SSLVERSION_TLSv1_2;
    }

    static long tlsMax(const std::string& v) {
        if (v == "TLSv1.0") {
            return CURL_SSLVERSION_MAX_TLSv1_0;
        }
        if (v == "TLSv1.1") {
            return CURL_SSLVERSION_MAX_TLSv1_1;
        }
        if (v == "TLSv1.2") {
            return CURL_SSLVERSION_MAX_TLSv1_2;
        }
        return CURL_SSLVERSION_MAX_TLSv1_3;
    }

    /// One request on the kept-alive handle. `payload` null: GET.
    CURLcode perform(const HostUrl& host, const std::string& url, const std::string_view* payload,
                     bool gzip, std::string& body, long& status) {
        CURL* c = curl_.get();
        curl_easy_reset(c);
        error_[0] = '\0';
        applyTransport(c, host);
        curl_easy_setopt(c, CURLOPT_URL, url.c_str());
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &collectBody);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
        if (payload == nullptr) {
            curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
            curl_easy_setopt(c, CURLOPT_HTTPHEADER, get_headers_.get());
        } else {
            curl_easy_setopt(c, CURLOPT_POST, 1L);
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, payload->data());
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                             static_cast<curl_off_t>(payload->size()));
            curl_easy_setopt(c, CURLOPT_HTTPHEADER,
                             gzip ? gzip_headers_.get() : bulk_headers_.get());
        }
        body.clear();
        const CURLcode rc = curl_easy_perform(c);
        status = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        if (rc != CURLE_OK && error_[0] == '\0') {
            std::strncat(error_.data(), curl_easy_strerror(rc), error_.size() - 1);
        }
        return rc;
    }

    // --- publishing -----------------------------------------------------------------

    /// Builds the bulk body of the whole batch into body_ (reused across batches);
    /// events without an index are counted in `outcome.dropped`.
    void prepare(std::span<const encode::EncodedEvent> events, Outcome& outcome) {
        body_.clear();
        items_.clear();
        const bool with_type = version_.major < 7;
        for (size_t i = 0; i < events.size(); ++i) {
            const encode::EncodedEvent& ev = events[i];
            const std::string_view json = codec_.apply(ev, scratch_);
            if (!splitMetadata(json, meta_)) {
                kLog.error("Dropping event: not a JSON object");
                ++outcome.dropped;
                continue;
            }
            std::string index;
            if (!meta_.raw_index.empty()) {
                index = meta_.raw_index;
            } else if (!meta_.index.empty()) {
                index = toLower(meta_.index);
            } else if (std::optional<std::string> selected = s_->index.select(ev)) {
                index = std::move(*selected);
            }
            if (index.empty()) {
                kLog.error(
                    "Dropping event: cannot select the index (a field of the index "
                    "format is missing)");
                ++outcome.dropped;
                continue;
            }
            std::string pipeline;
            if (!meta_.pipeline.empty()) {
                pipeline = toLower(meta_.pipeline);
            } else if (!s_->pipeline.empty()) {
                std::optional<std::string> selected = s_->pipeline.select(ev);
                if (selected) {
                    pipeline = std::move(*selected);
                }
            }
            const BulkOp op = chooseOp(version_, meta_.op_type, meta_.id);
            PreparedItem item;
            item.event = static_cast<uint32_t>(i);
            item.begin = body_.size();
            appendActionLine(body_, op, index, pipeline, meta_.id, with_type);
            item.source = body_.size();
            if (op != BulkOp::Delete) {
                body_ += meta_.source_head;
                body_ += meta_.source_tail;
                body_ += '\n';
            }
            item.end = body_.size();
            items_.push_back(item);
        }
    }

    std::string bulkUrl() const { return connected_host_->base() + "/_bulk" + s_->bulk_query; }

    /// Sends `text` as one bulk request; a transport failure is the non-ok status.
    core::Status post(std::string_view text, std::string& answer, long& status) {
        std::string_view payload = text;
        const bool gzip = s_->compression_level > 0;
        if (gzip) {
            if (!compress(text)) {
                return core::Status::error("gzip compression failed");
            }
            payload = gz_;
        }
        if (CURLcode rc = perform(*connected_host_, bulkUrl(), &payload, gzip, answer, status);
            rc != CURLE_OK) {
            count(s_->write_errors);
            return core::Status::error(std::string("bulk request to ") + connected_host_->base() +
                                       " failed: " + error_.data());
        }
        count(s_->write_bytes, payload.size());
        count(s_->read_bytes, answer.size());
        return core::Status::ok();
    }

    bool compress(std::string_view text) {
        z_stream z{};
        if (deflateInit2(&z, s_->compression_level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
            Z_OK) {
            return false;
        }
        gz_.resize(deflateBound(&z, static_cast<uLong>(text.size())) + 32);
        z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
        z.avail_in = static_cast<uInt>(text.size());
        z.next_out = reinterpret_cast<Bytef*>(gz_.data());
        z.avail_out = static_cast<uInt>(gz_.size());
        const int rc = deflate(&z, Z_FINISH);
        gz_.resize(z.total_out);
        deflateEnd(&z);
        return rc == Z_STREAM_END;
    }

    void retryRange(size_t begin, size_t end, Outcome& outcome) const {
        for (size_t i = begin; i < end; ++i) {
            outcome.retry.push_back(items_[i].event);
        }
    }

    /// Sends items [begin, end) and sorts their outcomes; non-ok when the connection broke.
    core::Status sendRange(size_t begin, size_t end, Outcome& outcome) {
        const std::string_view text = std::string_view(body_).substr(
            items_[begin].begin, items_[end - 1].end - items_[begin].begin);
        long status = 0;
        if (core::Status st = post(text, answer_, status); !st) {
            retryRange(begin, end, outcome);
            return st;
        }
        if (status == 413) {
            if (end - begin == 1) {
                kLog.error("Dropping event: it is larger than Elasticsearch accepts (HTTP 413)");
                ++outcome.dropped;
                return core::Status::ok();
            }
            // libbeat splits the batch and sends the halves.
            const size_t mid = begin + (end - begin) / 2;
            if (core::Status st = sendRange(begin, mid, outcome); !st) {
                retryRange(mid, end, outcome);
                return st;
            }
            return sendRange(mid, end, outcome);
        }
        if (status != 200) {
            kLog.error("Bulk request to " + connected_host_->base() + " failed with HTTP status " +
                       std::to_string(status) + ": " + answer_.substr(0, 512));
            retryRange(begin, end, outcome);
            return core::Status::ok();
        }
        if (core::Status st = parseBulkResponse(answer_, response_); !st) {
            kLog.error(st.message());
            count(s_->read_errors);
            retryRange(begin, end, outcome);
            return core::Status::ok();
        }
        classifyItems(response_, end - begin, outcomes_);
        for (size_t k = 0; k < outcomes_.size(); ++k) {
            const size_t item = begin + k;
            const int item_status = k < response_.items.size() ? response_.items[k].status : 0;
            switch (outcomes_[k]) {
                case ItemOutcome::Acked:
                    break;
                case ItemOutcome::Duplicate:
                    count(s_->duplicates);
                    break;
                case ItemOutcome::TooMany:
                    count(s_->too_many);
                    outcome.retry.push_back(items_[item].event);
                    break;
                case ItemOutcome::ServerError:
                    outcome.retry.push_back(items_[item].event);
                    break;
                case ItemOutcome::NonIndexable: {
                    const std::string& error = response_.items[k].error;
                    if (!s_->dead_letter_index.empty()) {
                        outcome.dead.push_back({item, item_status, error});
                    } else {
                        kLog.warn("Cannot index event " + sourceOf(item) +
                                  " (status=" + std::to_string(item_status) + "): " + error +
                                  ", dropping event!");
                        ++outcome.dropped;
                    }
                    break;
                }
            }
        }
        return core::Status::ok();
    }

    std::string sourceOf(size_t item) const {
        const PreparedItem& p = items_[item];
        if (p.end <= p.source) {
            return "{}";
        }
        return body_.substr(p.source, p.end - p.source - 1);
    }

    /// Re-sends rejected events to the dead-letter index as libbeat does.
    core::Status sendDeadLetters(Outcome& outcome) {
        dead_body_.clear();
        const BulkOp op = chooseOp(version_, "", "");
        for (const Outcome::DeadLetter& d : outcome.dead) {
            appendActionLine(dead_body_, op, s_->dead_letter_index, "", "", version_.major < 7);
            const std::string source = sourceOf(d.item);
            appendDeadLetterSource(dead_body_, findTimestamp(source), source, d.status, d.error);
        }
        long status = 0;
        auto retryAll = [&] {
            for (const Outcome::DeadLetter& d : outcome.dead) {
                outcome.retry.push_back(items_[d.item].event);
            }
        };
        if (core::Status st = post(dead_body_, answer_, status); !st) {
            retryAll();
            return st;
        }
        if (status != 200) {
            kLog.error("Dead-letter bulk request failed with HTTP status " +
                       std::to_string(status));
            retryAll();
            return core::Status::ok();
        }
        if (core::Status st = parseBulkResponse(answer_, response_); !st) {
            count(s_->read_errors);
            retryAll();
            return core::Status::ok();
        }
        classifyItems(response_, outcome.dead.size(), outcomes_);
        for (size_t k = 0; k < outcomes_.size(); ++k) {
            switch (outcomes_[k]) {
                case ItemOutcome::Acked:
                case ItemOutcome::Duplicate:
                    count(s_->dead_letter);
                    break;
                case ItemOutcome::TooMany:
                case ItemOutcome::ServerError:
                    outcome.retry.push_back(items_[outcome.dead[k].item].event);
                    break;
                case ItemOutcome::NonIndexable:
                    kLog.warn("Cannot index event in the dead-letter index (status=" +
                              std::to_string(response_.items[k].status) + "), dropping event!");
                    ++outcome.dropped;
                    break;
            }
        }
        return core::Status::ok();
    }

    static void signal(Batch& batch, size_t n, Outcome& outcome) {
        if (outcome.retry.empty() && outcome.dropped == 0) {
            batch.ack();
        } else if (outcome.retry.size() == n) {
            batch.retry();
        } else if (outcome.dropped == n) {
            batch.drop();
        } else {
            std::sort(outcome.retry.begin(), outcome.retry.end());
            batch.retryEvents(std::move(outcome.retry), outcome.dropped);
        }
    }

    // --- test output --------------------------------------------------------------------

    void testHost(TestDriver& driver, const HostUrl& host) {
        driver.section("elasticsearch: " + host.base(), [&] {
            if (!driver.run("parse url", [] { return core::Status::ok(); })) {
                return;
            }
            bool reachable = true;
            driver.section("connection", [&] { reachable = testConnection(driver, host); });
            if (!reachable) {
                return;
            }
            if (host.scheme == "https") {
                bool ok = true;
                driver.section("TLS", [&] { ok = testTls(driver, host); });
                if (!ok) {
                    return;
                }
            } else {
                driver.warn("TLS", "secure connection disabled");
            }
            std::string number;
            const core::Status talked = driver.run("talk to server", [&] {
                core::Status st = connectTo(host);
                if (st) {
                    number = version_.toString();
                }
                curl_.reset();
                return st;
            });
            if (talked) {
                driver.info("version", number);
            }
        });
    }

    bool testConnection(TestDriver& driver, const HostUrl& host) const {
        // libbeat's 30 s cap on the dial of `test output`.
        return checkTcpConnection(driver, host.host, host.port,
                                  std::min<int64_t>(s_->timeout_ms, 30'000) * 1'000'000);
    }

    bool testTls(TestDriver& driver, const HostUrl& host) {
        if (s_->tls.verifyPeer()) {
            driver.info("security", "server's certificate chain verification is enabled");
        } else {
            driver.warn("security", "server's certificate chain verification is disabled");
        }
        std::string version;
        const core::Status shook = driver.run("handshake", [&] {
            CurlHandle c(curl_easy_init());
            if (!c) {
                return core::Status::error("cannot create a libcurl handle");
            }
            applyTransport(c.get(), host);
            const std::string url = host.base() + "/";
            curl_easy_setopt(c.get(), CURLOPT_URL, url.c_str());
            curl_easy_setopt(c.get(), CURLOPT_CONNECT_ONLY, 1L);
            error_[0] = '\0';
            if (CURLcode rc = curl_easy_perform(c.get()); rc != CURLE_OK) {
                return core::Status::error(error_[0] != '\0' ? std::string(error_.data())
                                                             : curl_easy_strerror(rc));
            }
            curl_tlssessioninfo* info = nullptr;
            if (curl_easy_getinfo(c.get(), CURLINFO_TLS_SSL_PTR, &info) == CURLE_OK &&
                info != nullptr && info->backend == CURLSSLBACKEND_OPENSSL &&
                info->internals != nullptr) {
                version = SSL_get_version(static_cast<SSL*>(info->internals));
            }
            return core::Status::ok();
        });
        if (!shook) {
            return false;
        }
        if (!version.empty()) {
            driver.info("TLS version", version);
        }
        return true;
    }

    std::shared_ptr<const Settings> s_;
    std::vector<HostUrl> hosts_;
    size_t current_ = 0;
    const HostUrl* connected_host_ = nullptr;
    Codec codec_;
    CurlHandle curl_;
    Slist get_headers_;
    Slist bulk_headers_;
    Slist gzip_headers_;
    Slist proxy_headers_;
    std::array<char, CURL_ERROR_SIZE + 1> error_{};
    EsVersion version_{8, 0, 0};
    // Reused across batches: no per-event heap churn once they have grown.
    std::string scratch_;
    EventMeta meta_;
    std::string body_;
    std::string gz_;
    std::string answer_;
    std::string dead_body_;
    std::vector<PreparedItem> items_;
    BulkResponse response_;
    std::vector<ItemOutcome> outcomes_;
};

std::vector<std::pair<std::string, std::string>> stringMap(const config::Config& cfg,
                                                           const std::string& key) {
    std::vector<std::pair<std::string, std::string>> out;
    const config::Node* n = cfg.node(key);
    if (n != nullptr && n->isMap()) {
        for (const auto& [name, value] : n->entries()) {
            out.emplace_back(name, value.text());
        }
    }
    return out;
}

}  // namespace

std::string HostUrl::base() const {
    const bool v6 = host.find(':') != std::string::npos;
    return scheme + "://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port) + path;
}

std::optional<HostUrl> parseHostUrl(std::string_view entry, std::string_view protocol,
                                    std::string_view path, std::string& error) {
    HostUrl url;
    std::string_view rest = entry;
    if (const size_t sep = rest.find("://"); sep != std::string_view::npos) {
        url.scheme = toLower(std::string(rest.substr(0, sep)));
        rest.remove_prefix(sep + 3);
    } else {
        url.scheme = protocol.empty() ? "http" : toLower(std::string(protocol));
    }
    if (url.scheme != "http" && url.scheme != "https") {
        error = "unsupported scheme '" + url.scheme + "' in host '" + std::string(entry) + "'";
        return std::nullopt;
    }
    std::string_view authority = rest.substr(0, rest.find('/'));
    std::string_view url_path =
        authority.size() < rest.size() ? rest.substr(authority.size()) : std::string_view();
    if (const size_t at = authority.rfind('@'); at != std::string_view::npos) {
        const std::string_view userinfo = authority.substr(0, at);
        const size_t colon = userinfo.find(':');
        url.username = std::string(userinfo.substr(0, colon));
        if (colon != std::string_view::npos) {
            url.password = std::string(userinfo.substr(colon + 1));
        }
        authority.remove_prefix(at + 1);
    }
    std::string_view port_text;
    if (!authority.empty() && authority.front() == '[') {
        const size_t close = authority.find(']');
        if (close == std::string_view::npos) {
            error = "missing ']' in host '" + std::string(entry) + "'";
            return std::nullopt;
        }
        url.host = std::string(authority.substr(1, close - 1));
        const std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') {
                error = "invalid host '" + std::string(entry) + "'";
                return std::nullopt;
            }
            port_text = after.substr(1);
        }
    } else {
        const size_t colon = authority.rfind(':');
        if (colon != std::string_view::npos && authority.find(':') != colon) {
            // A bare IPv6 address without brackets: the whole thing is the host.
            url.host = std::string(authority);
        } else {
            url.host = std::string(authority.substr(0, colon));
            if (colon != std::string_view::npos) {
                port_text = authority.substr(colon + 1);
            }
        }
    }
    if (url.host.empty()) {
        error = "missing host name in '" + std::string(entry) + "'";
        return std::nullopt;
    }
    if (!port_text.empty()) {
        int64_t port = 0;
        if (!config::parseInt(port_text, port) || port <= 0 || port > 65535) {
            error = "invalid port in host '" + std::string(entry) + "'";
            return std::nullopt;
        }
        url.port = static_cast<uint16_t>(port);
    }
    std::string p(url_path.empty() || url_path == "/" ? path : url_path);
    while (!p.empty() && p.back() == '/') {
        p.pop_back();
    }
    if (!p.empty() && p.front() != '/') {
        p.insert(p.begin(), '/');
    }
    url.path = std::move(p);
    return url;
}

config::Spec ElasticsearchFactory::schema() const {
    return config::object({
        {"hosts", config::listOf(config::stringNoDefault(), "['localhost:9200']")},
        {"protocol", config::string("")},
        {"path", config::string("")},
        {"username", config::string("")},
        {"password", config::string("")},
        {"api_key", config::string("")},
        {"headers", config::openMap(config::stringNoDefault())},
        {"parameters", config::openMap(config::stringNoDefault())},
        {"index", config::string("sipbeat-%{[agent.version]}")},
        {"indices", Selector::rulesSchema("index")},
        {"pipeline", config::stringNoDefault()},
        {"pipelines", Selector::rulesSchema("pipeline")},
        {"bulk_max_size", config::integer(1600)},
        {"worker", config::integer(1, 1)},
        {"workers", config::integerNoDefault(1)},
        {"loadbalance", config::boolean(true)},
        {"compression_level", config::integer(1, 0, 9)},
        {"escape_html", config::boolean(false)},
        {"timeout", config::duration("90s", 0)},
        {"max_retries", config::integer(3)},
        {"backoff", config::object({{"init", config::duration("1s", 0)},
                                    {"max", config::duration("60s", 0)}})},
        {"idle_connection_timeout", config::duration("3s", 0)},
        {"allow_older_versions", config::boolean(true)},
        {"proxy_url", config::string("")},
        {"proxy_disable", config::boolean(false)},
        {"proxy_headers", config::openMap(config::stringNoDefault())},
        {"ssl", tlsSchema()},
        {"kerberos", config::object({{"enabled", config::boolean(true)},
                                     {"auth_type", config::string("")},
                                     {"keytab", config::string("")},
                                     {"config_path", config::string("")},
                                     {"service_name", config::string("")},
                                     {"username", config::string("")},
                                     {"password", config::string("")},
                                     {"realm", config::string("")},
                                     {"enable_krb5_fast", config::boolean(false)}})},
        {"non_indexable_policy",
         config::object(
             {{"drop", config::any()},
              {"dead_letter_index", config::object({{"index", config::stringNoDefault()}})}})},
        {"preset",
         config::oneOf("custom", {"custom", "balanced", "throughput", "scale", "latency"})},
    });
}

namespace {

/// libbeat's performance presets (libbeat/outputs/elasticsearch/config_presets.go);
/// `custom` sets nothing.
struct Preset {
    const char* name;
    int64_t bulk_max_size;
    int64_t worker;
    int64_t queue_events;
    int64_t queue_flush_min_events;
    int64_t queue_flush_timeout_s;
    int compression_level;
    int64_t idle_connection_timeout_s;
};

constexpr Preset kPresets[] = {
    {"balanced", 1600, 1, 3200, 1600, 10, 1, 3},
    {"throughput", 1600, 4, 12800, 1600, 5, 1, 15},
    {"scale", 1600, 1, 3200, 1600, 20, 1, 1},
    {"latency", 50, 1, 4100, 2050, 1, 1, 60},
};

const Preset* findPreset(const std::string& name) {
    for (const Preset& p : kPresets) {
        if (name == p.name) {
            return &p;
        }
    }
    return nullptr;
}

}  // namespace

core::Result<Group> ElasticsearchFactory::create(const OutputContext& ctx,
                                                 const config::Config& cfg,
                                                 const std::string& prefix) const {
    auto s = std::make_shared<Settings>();
    const Preset* preset = findPreset(cfg.getString(prefix + ".preset"));
    if (preset != nullptr) {
        // libbeat (config_presets.go): the preset's values win over the user's; each key it
        // overrides is named in a warning.
        for (const char* key : {"bulk_max_size", "worker", "workers", "compression_level",
                                "idle_connection_timeout", "queue"}) {
            if (cfg.has(prefix + "." + key)) {
                kLog.warn("Setting '" + prefix + "." + key + "' is overridden by " + prefix +
                          ".preset: " + preset->name);
            }
        }
    }
    if (cfg.has(prefix + ".kerberos") && cfg.getBool(prefix + ".kerberos.enabled")) {
        return core::Status::error(
            cfg.errorAt(prefix + ".kerberos", "Kerberos authentication is not supported"));
    }

    std::vector<HostUrl> hosts;
    const std::string protocol = cfg.getString(prefix + ".protocol");
    const std::string path = cfg.getString(prefix + ".path");
    for (const std::string& entry : cfg.getStringList(prefix + ".hosts")) {
        std::string error;
        std::optional<HostUrl> url = parseHostUrl(entry, protocol, path, error);
        if (!url) {
            return core::Status::error(cfg.errorAt(prefix + ".hosts", error));
        }
        hosts.push_back(std::move(*url));
    }
    if (hosts.empty()) {
        return core::Status::error(cfg.errorAt(prefix + ".hosts", "no hosts configured"));
    }

    core::Result<TlsSettings> tls = tlsFromConfig(cfg, prefix + ".ssl");
    if (!tls) {
        return tls.status();
    }
    s->tls = std::move(tls).value();
    s->tls_on = s->tls.enabled;
    if (s->tls_on && protocol.empty()) {
        // An ssl section turns bare `IP:PORT` hosts into https (a URL keeps its scheme).
        for (size_t i = 0; i < hosts.size(); ++i) {
            const std::string entry = cfg.getStringList(prefix + ".hosts")[i];
            if (entry.find("://") == std::string::npos) {
                hosts[i].scheme = "https";
            }
        }
    }
    for (const std::string& ca : s->tls.certificate_authorities) {
        core::Result<std::string> pem = readPem(ca, prefix + ".ssl.certificate_authorities", cfg);
        if (!pem) {
            return pem.status();
        }
        s->ca_pem += *pem;
        s->ca_pem += '\n';
    }
    if (!s->tls.certificate.empty()) {
        core::Result<std::string> pem =
            readPem(s->tls.certificate, prefix + ".ssl.certificate", cfg);
        if (!pem) {
            return pem.status();
        }
        s->cert_pem = std::move(pem).value();
    }
    if (!s->tls.key.empty()) {
        core::Result<std::string> pem = readPem(s->tls.key, prefix + ".ssl.key", cfg);
        if (!pem) {
            return pem.status();
        }
        s->key_pem = std::move(pem).value();
    }

    s->username = cfg.getString(prefix + ".username");
    s->password = cfg.getString(prefix + ".password");
    if (const std::string api_key = cfg.getString(prefix + ".api_key"); !api_key.empty()) {
        s->api_key_header = "Authorization: ApiKey " + base64(api_key);
    }
    s->headers = stringMap(cfg, prefix + ".headers");
    std::map<std::string, std::string> params;
    for (auto& [k, v] : stringMap(cfg, prefix + ".parameters")) {
        params[k] = v;
    }
    s->bulk_query = "?filter_path=errors,items.*.error,items.*.status";
    for (const auto& [k, v] : params) {
        s->bulk_query += "&" + urlEncode(k) + "=" + urlEncode(v);
    }
    s->user_agent =
        "Elastic-" +
        std::string(1, static_cast<char>(std::toupper(static_cast<unsigned char>(ctx.beat[0])))) +
        ctx.beat.substr(1) + "/" + ctx.version + " (linux; " + machineArch() +
        "; unknown; unknown)";
    if (ctx.beat.empty()) {
        s->user_agent =
            "Elastic-Sipbeat/" + ctx.version + " (linux; " + machineArch() + "; unknown; unknown)";
    }

    std::map<std::string, std::string, std::less<>> static_fields;
    if (!ctx.version.empty()) {
        static_fields["agent.version"] = ctx.version;
    }
    core::Result<Selector> index = Selector::fromConfig(cfg, prefix, "index", "indices", true);
    if (!index) {
        return index.status();
    }
    s->index = std::move(index).value();
    s->index.bind(static_fields);
    core::Result<Selector> pipeline =
        Selector::fromConfig(cfg, prefix, "pipeline", "pipelines", true);
    if (!pipeline) {
        return pipeline.status();
    }
    s->pipeline = std::move(pipeline).value();
    s->pipeline.bind(static_fields);

    const std::string dead_key = prefix + ".non_indexable_policy.dead_letter_index";
    if (cfg.has(dead_key)) {
        s->dead_letter_index = toLower(cfg.getString(dead_key + ".index"));
        if (s->dead_letter_index.empty()) {
            return core::Status::error(cfg.errorAt(dead_key + ".index", "missing required field"));
        }
        if (cfg.has(prefix + ".non_indexable_policy.drop")) {
            return core::Status::error(cfg.errorAt(prefix + ".non_indexable_policy",
                                                   "only one of drop and dead_letter_index may "
                                                   "be set"));
        }
    }

    s->compression_level = preset != nullptr
                               ? preset->compression_level
                               : static_cast<int>(cfg.getInt(prefix + ".compression_level"));
    s->escape_html = cfg.getBool(prefix + ".escape_html");
    s->timeout_ms = cfg.getDurationNs(prefix + ".timeout") / 1'000'000;
    s->idle_timeout_s = std::max<int64_t>(
        1, preset != nullptr
               ? preset->idle_connection_timeout_s
               : cfg.getDurationNs(prefix + ".idle_connection_timeout") / 1'000'000'000);
    s->allow_older_versions = cfg.getBool(prefix + ".allow_older_versions");
    s->beat_version = ctx.version;
    s->proxy_url = cfg.getString(prefix + ".proxy_url");
    s->proxy_disable = cfg.getBool(prefix + ".proxy_disable");
    for (const auto& [k, v] : stringMap(cfg, prefix + ".proxy_headers")) {
        s->proxy_headers.push_back(k + ": " + v);
    }
    if (ctx.metrics != nullptr) {
        s->write_bytes = &ctx.metrics->counter("libbeat.output.write.bytes");
        s->write_errors = &ctx.metrics->counter("libbeat.output.write.errors");
        s->read_bytes = &ctx.metrics->counter("libbeat.output.read.bytes");
        s->read_errors = &ctx.metrics->counter("libbeat.output.read.errors");
        s->duplicates = &ctx.metrics->counter("libbeat.output.events.duplicates");
        s->too_many = &ctx.metrics->counter("libbeat.output.events.toomany");
        s->dead_letter = &ctx.metrics->counter("libbeat.output.events.dead_letter");
    }

    int64_t workers = cfg.getInt(prefix + ".worker");
    if (cfg.has(prefix + ".workers")) {
        workers = cfg.getInt(prefix + ".workers");
    }
    if (preset != nullptr) {
        workers = preset->worker;
    }
    Group g;
    if (cfg.getBool(prefix + ".loadbalance")) {
        for (const HostUrl& host : hosts) {
            for (int64_t w = 0; w < workers; ++w) {
                g.clients.push_back(std::make_unique<EsClient>(s, std::vector<HostUrl>{host}, 0));
            }
        }
    } else {
        for (int64_t w = 0; w < workers; ++w) {
            g.clients.push_back(std::make_unique<EsClient>(s, hosts, static_cast<size_t>(w)));
        }
    }
    g.bulk_max_size =
        preset != nullptr ? preset->bulk_max_size : cfg.getInt(prefix + ".bulk_max_size");
    if (preset != nullptr) {
        g.mem_queue = MemQueuePreset{preset->queue_events, preset->queue_flush_min_events,
                                     preset->queue_flush_timeout_s * 1'000'000'000,
                                     prefix + ".preset: " + preset->name};
    }
    g.max_retries = static_cast<int32_t>(cfg.getInt(prefix + ".max_retries"));
    g.backoff_init_ns = cfg.getDurationNs(prefix + ".backoff.init");
    g.backoff_max_ns = cfg.getDurationNs(prefix + ".backoff.max");
    return g;
}

}  // namespace sipbeat::outputs::elasticsearch
