// vnc_display_setup_auth(): the nine TLS x password x sasl combinations
// (spec §2.2, qemu-tests.md §7), websocket mapping and the QEMU/QAPI names.
#include "cmocka.hpp"

#include <cstring>

#include "auth-plan.hpp"

using namespace qvnc::vnc;

namespace {

struct Row {
    bool password;
    bool sasl;
    TlsKind tls;
    AuthType auth;
    VencryptSub sub;
    unsigned wire_auth;   // the number on the wire, spelled out
    unsigned wire_sub;
    const char *name;     // vnc_auth_name()
    const char *qapi;     // VncPrimaryAuth
    const char *qapi_sub; // VncVencryptSubAuth, nullptr = absent
    AuthType ws_auth;
};

const Row kRows[] = {
    {false, false, TlsKind::None, AuthType::None, VencryptSub::None, 1, 0, "none", "none", nullptr, AuthType::None},
    {true, false, TlsKind::None, AuthType::Vnc, VencryptSub::None, 2, 0, "vnc", "vnc", nullptr, AuthType::Vnc},
    {false, true, TlsKind::None, AuthType::Sasl, VencryptSub::None, 20, 0, "sasl", "sasl", nullptr, AuthType::Sasl},
    {true, true, TlsKind::None, AuthType::Vnc, VencryptSub::None, 2, 0, "vnc", "vnc", nullptr, AuthType::Vnc},
    {false, false, TlsKind::Anon, AuthType::VeNCrypt, VencryptSub::TlsNone, 19, 257, "vencrypt+tls+none", "vencrypt", "tls-none", AuthType::None},
    {true, false, TlsKind::Anon, AuthType::VeNCrypt, VencryptSub::TlsVnc, 19, 258, "vencrypt+tls+vnc", "vencrypt", "tls-vnc", AuthType::Vnc},
    {false, true, TlsKind::Anon, AuthType::VeNCrypt, VencryptSub::TlsSasl, 19, 264, "vencrypt+tls+sasl", "vencrypt", "tls-sasl", AuthType::Sasl},
    {true, true, TlsKind::Anon, AuthType::VeNCrypt, VencryptSub::TlsVnc, 19, 258, "vencrypt+tls+vnc", "vencrypt", "tls-vnc", AuthType::Vnc},
    {false, false, TlsKind::X509, AuthType::VeNCrypt, VencryptSub::X509None, 19, 260, "vencrypt+x509+none", "vencrypt", "x509-none", AuthType::None},
    {true, false, TlsKind::X509, AuthType::VeNCrypt, VencryptSub::X509Vnc, 19, 261, "vencrypt+x509+vnc", "vencrypt", "x509-vnc", AuthType::Vnc},
    {false, true, TlsKind::X509, AuthType::VeNCrypt, VencryptSub::X509Sasl, 19, 263, "vencrypt+x509+sasl", "vencrypt", "x509-sasl", AuthType::Sasl},
    {true, true, TlsKind::X509, AuthType::VeNCrypt, VencryptSub::X509Vnc, 19, 261, "vencrypt+x509+vnc", "vencrypt", "x509-vnc", AuthType::Vnc},
};

void test_matrix(void **)
{
    for (const Row &row : kRows) {
        print_message("# password=%d sasl=%d tls=%d\n", row.password, row.sasl,
                      static_cast<int>(row.tls));
        AuthPlan plan = plan_auth(row.password, row.sasl, row.tls);
        assert_int_equal(static_cast<unsigned>(plan.auth), row.wire_auth);
        assert_int_equal(static_cast<unsigned>(plan.subauth), row.wire_sub);
        assert_true(plan.auth == row.auth);
        assert_true(plan.subauth == row.sub);
        // Websockets do TLS as wss://, never VeNCrypt.
        assert_true(plan.ws_auth == row.ws_auth);
        assert_true(plan.ws_subauth == VencryptSub::None);
        assert_string_equal(auth_name(plan.auth, plan.subauth), row.name);
        assert_string_equal(primary_auth_qapi(plan.auth), row.qapi);
        const char *sub = vencrypt_sub_qapi(plan.subauth);
        if (row.qapi_sub == nullptr) {
            assert_null(sub);
        } else {
            assert_non_null(sub);
            assert_string_equal(sub, row.qapi_sub);
        }
    }
}

void test_numbering(void **)
{
    // QEMU's numbering, not rfbproto's, for the two SASL sub-types.
    assert_int_equal(static_cast<uint32_t>(VencryptSub::X509Sasl), 263);
    assert_int_equal(static_cast<uint32_t>(VencryptSub::TlsSasl), 264);
    assert_int_equal(static_cast<uint32_t>(VencryptSub::Plain), 256);
    assert_int_equal(static_cast<uint32_t>(VencryptSub::X509Plain), 262);
    assert_int_equal(static_cast<uint8_t>(AuthType::VeNCrypt), 19);
    assert_int_equal(static_cast<uint8_t>(AuthType::Sasl), 20);
}

void test_names(void **)
{
    assert_string_equal(auth_name(AuthType::Invalid, VencryptSub::None), "invalid");
    assert_string_equal(auth_name(AuthType::VeNCrypt, VencryptSub::None), "vencrypt");
    assert_string_equal(auth_name(AuthType::VeNCrypt, VencryptSub::Plain), "vencrypt+plain");
    assert_string_equal(auth_name(AuthType::VeNCrypt, VencryptSub::TlsPlain), "vencrypt+tls+plain");
    assert_string_equal(auth_name(AuthType::VeNCrypt, VencryptSub::X509Plain), "vencrypt+x509+plain");
    assert_string_equal(auth_name(static_cast<AuthType>(5), VencryptSub::None), "ra2");
    assert_string_equal(auth_name(static_cast<AuthType>(6), VencryptSub::None), "ra2ne");
    assert_string_equal(auth_name(static_cast<AuthType>(16), VencryptSub::None), "tight");
    assert_string_equal(auth_name(static_cast<AuthType>(17), VencryptSub::None), "ultra");
    assert_string_equal(auth_name(static_cast<AuthType>(18), VencryptSub::None), "tls");
    assert_string_equal(auth_name(static_cast<AuthType>(99), VencryptSub::None), "unknown");

    assert_string_equal(primary_auth_qapi(AuthType::Invalid), "none");
    assert_string_equal(primary_auth_qapi(AuthType::None), "none");
    assert_string_equal(primary_auth_qapi(static_cast<AuthType>(5)), "ra2");
    assert_string_equal(primary_auth_qapi(static_cast<AuthType>(6)), "ra2ne");
    assert_string_equal(primary_auth_qapi(static_cast<AuthType>(16)), "tight");
    assert_string_equal(primary_auth_qapi(static_cast<AuthType>(17)), "ultra");
    assert_string_equal(primary_auth_qapi(static_cast<AuthType>(18)), "tls");

    assert_string_equal(vencrypt_sub_qapi(VencryptSub::Plain), "plain");
    assert_string_equal(vencrypt_sub_qapi(VencryptSub::TlsPlain), "tls-plain");
    assert_string_equal(vencrypt_sub_qapi(VencryptSub::X509Plain), "x509-plain");
    assert_null(vencrypt_sub_qapi(VencryptSub::None));
    assert_null(vencrypt_sub_qapi(static_cast<VencryptSub>(1)));
}

} // namespace

int main()
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matrix),
        cmocka_unit_test(test_numbering),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
