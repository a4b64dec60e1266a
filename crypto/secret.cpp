#include "secret.hpp"
#include "secret-decrypt.hpp"

#include <cstring>
#include <memory>
#include <optional>

#include <glib.h>

namespace qvnc::crypto {

namespace {

struct GFreeDeleter {
    void operator()(void *p) const { g_free(p); }
};
struct GErrorDeleter {
    void operator()(GError *e) const { g_error_free(e); }
};

void wipe(std::string &s)
{
    explicit_bzero(s.data(), s.size());
    s.clear();
}

// QEMU's qbase64_decode: only the alphabet, '=' and '\n' are allowed, then
// glib decodes (leniently about padding, as QEMU does).
Result<std::string> decode_base64(const std::string &text)
{
    if (std::memchr(text.data(), '\0', text.size()) != nullptr) {
        return make_error(ErrorCode::InvalidArg, "Base64 data contains embedded NUL characters");
    }
    static constexpr std::string_view kValid =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=\n";
    if (text.find_first_not_of(kValid) != std::string::npos) {
        return make_error(ErrorCode::InvalidArg, "Base64 data contains invalid characters");
    }
    gsize len = 0;
    std::unique_ptr<guchar, GFreeDeleter> raw(g_base64_decode(text.c_str(), &len));
    std::string out;
    if (raw && len > 0) {
        out.assign(reinterpret_cast<const char *>(raw.get()), len);
        explicit_bzero(raw.get(), len);
    }
    return out;
}

Result<std::string> read_secret_file(const std::string &path)
{
    gchar *contents = nullptr;
    gsize len = 0;
    GError *raw_err = nullptr;
    if (!g_file_get_contents(path.c_str(), &contents, &len, &raw_err)) {
        std::unique_ptr<GError, GErrorDeleter> err(raw_err);
        return make_error(ErrorCode::Io, "Unable to read %s: %s", path.c_str(), err->message);
    }
    std::unique_ptr<gchar, GFreeDeleter> owned(contents);
    std::string out(contents, len);
    explicit_bzero(contents, len);
    return out;
}

// Mirrors qcrypto_secret_load_data(): exactly one source.
Result<std::string> load_data(const std::optional<std::string> &data,
                              const std::optional<std::string> &file)
{
    if (file) {
        if (data) {
            return make_error(ErrorCode::InvalidArg, "'file' and 'data' are mutually exclusive");
        }
        return read_secret_file(*file);
    }
    if (data) {
        // QEMU keeps the data property as a C string.
        return std::string(data->c_str());
    }
    return make_error(ErrorCode::InvalidArg, "Either 'file' or 'data' must be provided");
}

} // namespace

SecretStore::~SecretStore()
{
    for (auto &entry : secrets_) {
        wipe(entry.second);
    }
}

Status SecretStore::add(const opts::ObjectSpec &spec)
{
    if (spec.qom_type != "secret") {
        return make_error(ErrorCode::InvalidArg, "invalid object type: %s", spec.qom_type.c_str());
    }
    if (spec.id.empty()) {
        return make_error(ErrorCode::InvalidArg, "Parameter 'id' is missing");
    }
    if (Status st = opts::check_known_props(spec, {"data", "file", "format", "keyid", "iv"}); !st) {
        return st.take_error();
    }

    // Property values are all validated before anything is loaded, the
    // order in which QEMU sets properties and then completes the object.
    auto data = opts::get_string(spec, "data");
    if (!data) return data.take_error();
    auto file = opts::get_string(spec, "file");
    if (!file) return file.take_error();
    auto format = opts::get_string(spec, "format");
    if (!format) return format.take_error();
    auto keyid = opts::get_string(spec, "keyid");
    if (!keyid) return keyid.take_error();
    auto iv = opts::get_string(spec, "iv");
    if (!iv) return iv.take_error();

    bool base64 = false;
    if (const auto &f = format.value()) {
        if (*f == "base64") {
            base64 = true;
        } else if (*f != "raw") {
            return make_error(ErrorCode::InvalidArg, "Parameter 'format' does not accept value '%s'",
                              f->c_str());
        }
    }

    // QEMU adds the object under /objects before completing it, so a
    // duplicate id is reported ahead of any problem with the data.
    if (secrets_.find(spec.id) != secrets_.end()) {
        return make_error(ErrorCode::InvalidArg,
                          "attempt to add duplicate property '%s' to object (type 'container')",
                          spec.id.c_str());
    }

    auto raw = load_data(data.value(), file.value());
    if (!raw) return raw.take_error();

    if (const auto &master_id = keyid.value()) {
        // The master key is the raw bytes of another secret (no UTF-8 check).
        auto master = secrets_.find(*master_id);
        if (master == secrets_.end()) {
            wipe(raw.value());
            return make_error(ErrorCode::NotFound, "No secret with id '%s'", master_id->c_str());
        }
        std::string ciphertext;
        if (base64) {
            auto decoded = decode_base64(raw.value());
            if (!decoded) {
                wipe(raw.value());
                return decoded.take_error();
            }
            ciphertext = std::move(decoded.value());
        } else {
            ciphertext = raw.value();
        }
        wipe(raw.value());
        auto plain = decrypt_secret(ciphertext, master->second, iv.value().value_or(""));
        wipe(ciphertext);
        if (!plain) return plain.take_error();
        secrets_.emplace(spec.id, std::move(plain.value()));
        return ok_status();
    }

    if (base64) {
        auto decoded = decode_base64(raw.value());
        wipe(raw.value());
        if (!decoded) return decoded.take_error();
        secrets_.emplace(spec.id, std::move(decoded.value()));
    } else {
        secrets_.emplace(spec.id, std::move(raw.value()));
    }
    return ok_status();
}

Result<std::string> SecretStore::lookup(std::string_view id) const
{
    auto it = secrets_.find(id);
    if (it == secrets_.end()) {
        return make_error(ErrorCode::NotFound, "No secret with id '%.*s'", static_cast<int>(id.size()),
                          id.data());
    }
    const std::string &value = it->second;
    // Passing the length makes g_utf8_validate reject embedded NULs too,
    // exactly like QEMU's lookup_as_utf8.
    if (!g_utf8_validate(value.data(), static_cast<gssize>(value.size()), nullptr)) {
        return make_error(ErrorCode::InvalidArg, "Data from secret %.*s is not valid UTF-8",
                          static_cast<int>(id.size()), id.data());
    }
    return value;
}

bool SecretStore::contains(std::string_view id) const
{
    return secrets_.find(id) != secrets_.end();
}

bool SecretStore::remove(std::string_view id)
{
    auto it = secrets_.find(id);
    if (it == secrets_.end()) {
        return false;
    }
    wipe(it->second);
    secrets_.erase(it);
    return true;
}

} // namespace qvnc::crypto
