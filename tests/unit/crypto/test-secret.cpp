// SecretStore: QEMU's `-object secret` semantics and error texts.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <unistd.h>

#include "object-spec.hpp"
#include "secret.hpp"

// Last: cmocka defines a fail() macro that clashes with <ios>.
#include "cmocka.hpp"

using namespace qvnc;
using qvnc::crypto::SecretStore;

namespace {

opts::ObjectSpec spec(const char *text)
{
    auto r = opts::parse_object_spec(text);
    if (!r) {
        fail_msg("parse_object_spec(%s): %s", text, r.error().message.c_str());
    }
    return r.value();
}

// add() must fail with exactly this message.
void expect_add_error(SecretStore &store, const opts::ObjectSpec &s, const char *message)
{
    Status st = store.add(s);
    assert_false(st.ok());
    assert_string_equal(st.error().message.c_str(), message);
}

void expect_secret(const SecretStore &store, const char *id, const std::string &value)
{
    auto r = store.lookup(id);
    if (!r) {
        fail_msg("lookup(%s): %s", id, r.error().message.c_str());
    }
    assert_int_equal(r.value().size(), value.size());
    assert_memory_equal(r.value().data(), value.data(), value.size());
}

// A temporary file removed again by the caller.
std::string temp_file(const std::string &contents)
{
    char path[] = "/tmp/qvnc-secret-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, contents.data(), contents.size()), static_cast<ssize_t>(contents.size()));
    close(fd);
    return path;
}

void test_data_raw(void **)
{
    SecretStore store;
    assert_true(store.add(spec("secret,id=s0,data=letmein")).ok());
    assert_true(store.add(spec("secret,id=s1,data=a,,b,format=raw")).ok());
    expect_secret(store, "s0", "letmein");
    expect_secret(store, "s1", "a,b");
    assert_true(store.contains("s0"));
    assert_false(store.contains("s2"));
}

void test_data_base64(void **)
{
    SecretStore store;
    assert_true(store.add(spec("secret,id=b,data=bGV0bWVpbg==,format=base64")).ok());
    expect_secret(store, "b", "letmein");
    // JSON form; '\n' is part of QEMU's accepted alphabet.
    assert_true(store.add(spec(R"({"qom-type":"secret","id":"j","data":"bGV0\nbWVpbg==","format":"base64"})")).ok());
    expect_secret(store, "j", "letmein");
    // Empty base64 is an empty secret.
    assert_true(store.add(spec("secret,id=e,data=,format=base64")).ok());
    expect_secret(store, "e", "");
}

void test_base64_errors(void **)
{
    SecretStore store;
    expect_add_error(store, spec("secret,id=b,data=bGV0$bWVpbg==,format=base64"),
                     "Base64 data contains invalid characters");
    expect_add_error(store, spec("secret,id=b,data=bGV0 bWVpbg==,format=base64"),
                     "Base64 data contains invalid characters");
    assert_false(store.contains("b"));

    const std::string path = temp_file(std::string("bGV0\0bWVp", 9));
    const std::string text = "secret,id=f,format=base64,file=" + path;
    expect_add_error(store, spec(text.c_str()), "Base64 data contains embedded NUL characters");
    unlink(path.c_str());
}

void test_file(void **)
{
    SecretStore store;
    const std::string plain = temp_file("filepw");
    const std::string newline = temp_file("filepw\n");
    const std::string b64 = temp_file("ZmlsZXB3\n");
    assert_true(store.add(spec(("secret,id=f1,file=" + plain).c_str())).ok());
    // QEMU keeps a trailing newline as part of the secret.
    assert_true(store.add(spec(("secret,id=f2,file=" + newline).c_str())).ok());
    assert_true(store.add(spec(("secret,id=f3,format=base64,file=" + b64).c_str())).ok());
    expect_secret(store, "f1", "filepw");
    expect_secret(store, "f2", "filepw\n");
    expect_secret(store, "f3", "filepw");
    unlink(plain.c_str());
    unlink(newline.c_str());
    unlink(b64.c_str());

    Status st = store.add(spec("secret,id=f4,file=/nonexistent/qvnc-secret"));
    assert_false(st.ok());
    assert_int_equal(static_cast<int>(st.error().code), static_cast<int>(ErrorCode::Io));
    const std::string prefix = "Unable to read /nonexistent/qvnc-secret: ";
    assert_true(st.error().message.rfind(prefix, 0) == 0);
    assert_true(st.error().message.size() > prefix.size());
}

void test_source_errors(void **)
{
    SecretStore store;
    expect_add_error(store, spec("secret,id=x,data=a,file=/etc/hostname"),
                     "'file' and 'data' are mutually exclusive");
    expect_add_error(store, spec("secret,id=x"), "Either 'file' or 'data' must be provided");
    expect_add_error(store, spec("secret,id=x,format=base64"), "Either 'file' or 'data' must be provided");
    expect_add_error(store, spec("secret,id=x,data=a,format=hex"), "Parameter 'format' does not accept value 'hex'");
    expect_add_error(store, spec("secret,id=x,data=a,foo=bar"), "Invalid parameter 'foo'");
    expect_add_error(store, spec("secret,id=x,data=a,loaded=on"), "Invalid parameter 'loaded'");
    expect_add_error(store, spec(R"({"qom-type":"secret","id":"x","data":42})"),
                     "Invalid parameter type for 'data', expected: string");
    expect_add_error(store, spec("tls-creds-anon,id=x"), "invalid object type: tls-creds-anon");
    assert_false(store.contains("x"));
}

void test_keyid_encrypted(void **)
{
    // Vectors made with: openssl enc -aes-256-cbc -K <hex of the master>
    // -iv 00..00 (libvirt encrypts its secrets the same way).
    SecretStore store;
    assert_true(store.add(spec("secret,id=key,data=0123456789abcdef0123456789abcdef")).ok());
    assert_true(store.add(spec("secret,id=enc,data=noJC4Ov3CD1cjbN4cylXZg==,format=base64,keyid=key,iv=AAAAAAAAAAAAAAAAAAAAAA==")).ok());
    expect_secret(store, "enc", "hunter22");
    // A full block of plaintext gets a whole block of padding.
    assert_true(store.add(spec("secret,id=enc2,data=DmOHHsB2S1VaMgi3KPMQD1R9VqtgdJ+/wiTGBXx+GUWpwpF1k2gD0m9t96gWv9JN,format=base64,keyid=key,iv=AAAAAAAAAAAAAAAAAAAAAA==")).ok());
    expect_secret(store, "enc2", "a-longer-secret-of-32-bytes-long");
    expect_add_error(store, spec("secret,id=e3,data=noJC4Ov3CD1cjbN4cylXZg==,format=base64,keyid=nokey,iv=AAAAAAAAAAAAAAAAAAAAAA=="),
                     "No secret with id 'nokey'");
    expect_add_error(store, spec("secret,id=e4,data=noJC4Ov3CD1cjbN4cylXZg==,format=base64,keyid=key"),
                     "IV is required to decrypt secret");
    expect_add_error(store, spec("secret,id=e5,data=noJC4Ov3CD1cjbN4cylXZg==,format=base64,keyid=key,iv=AAAA"),
                     "IV length 3 is not equal to 16");
    assert_true(store.add(spec("secret,id=short,data=tooshort")).ok());
    expect_add_error(store, spec("secret,id=e6,data=noJC4Ov3CD1cjbN4cylXZg==,format=base64,keyid=short,iv=AAAAAAAAAAAAAAAAAAAAAA=="),
                     "Master key length 8 is not equal to 32");
    assert_false(store.contains("e3"));
    // iv without keyid is ignored, as in QEMU.
    assert_true(store.add(spec("secret,id=ivonly,data=pw,iv=AAAAAAAAAAAAAAAAAAAAAA==")).ok());
    expect_secret(store, "ivonly", "pw");
}

void test_duplicate_id(void **)
{
    SecretStore store;
    assert_true(store.add(spec("secret,id=dup,data=first")).ok());
    expect_add_error(store, spec("secret,id=dup,data=second"),
                     "attempt to add duplicate property 'dup' to object (type 'container')");
    // The duplicate check comes before the data is examined, as in QEMU.
    expect_add_error(store, spec("secret,id=dup"),
                     "attempt to add duplicate property 'dup' to object (type 'container')");
    expect_secret(store, "dup", "first");
}

void test_lookup_errors(void **)
{
    SecretStore store;
    auto r = store.lookup("nope");
    assert_false(r.ok());
    assert_int_equal(static_cast<int>(r.error().code), static_cast<int>(ErrorCode::NotFound));
    assert_string_equal(r.error().message.c_str(), "No secret with id 'nope'");

    assert_true(store.add(spec("secret,id=bin,data=/w==,format=base64")).ok()); // 0xff
    assert_true(store.add(spec("secret,id=nul,data=YQBi,format=base64")).ok()); // "a\0b"
    auto bin = store.lookup("bin");
    assert_false(bin.ok());
    assert_string_equal(bin.error().message.c_str(), "Data from secret bin is not valid UTF-8");
    auto nul = store.lookup("nul");
    assert_false(nul.ok());
    assert_string_equal(nul.error().message.c_str(), "Data from secret nul is not valid UTF-8");

    assert_true(store.add(spec("secret,id=utf,data=p\xc3\xa4ss")).ok());
    expect_secret(store, "utf", "p\xc3\xa4ss");
}

void test_remove_and_isolation(void **)
{
    SecretStore a, b;
    assert_true(a.add(spec("secret,id=s,data=one")).ok());
    assert_true(b.add(spec("secret,id=s,data=two")).ok());
    expect_secret(a, "s", "one");
    expect_secret(b, "s", "two");
    assert_true(a.remove("s"));
    assert_false(a.remove("s"));
    assert_false(a.lookup("s").ok());
    expect_secret(b, "s", "two");
    // The id is free again.
    assert_true(a.add(spec("secret,id=s,data=three")).ok());
    expect_secret(a, "s", "three");
}

} // namespace

int main()
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_data_raw),
        cmocka_unit_test(test_data_base64),
        cmocka_unit_test(test_base64_errors),
        cmocka_unit_test(test_file),
        cmocka_unit_test(test_source_errors),
        cmocka_unit_test(test_keyid_encrypted),
        cmocka_unit_test(test_duplicate_id),
        cmocka_unit_test(test_lookup_errors),
        cmocka_unit_test(test_remove_and_isolation),
    };
    return cmocka_run_group_tests_name("crypto/secret", tests, nullptr, nullptr);
}
