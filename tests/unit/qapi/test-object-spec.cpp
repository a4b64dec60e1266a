// -object in both syntaxes: key=value (implied qom-type) and JSON.
// nlohmann/json pulls in <ios>, whose fail() member cmocka's fail() macro
// would break: include it before cmocka.
#include <cstring>
#include <string>

#include "object-spec.hpp"

#include "cmocka.hpp"

using namespace qvnc;
using namespace qvnc::opts;

namespace {

void test_keyval_form(void **)
{
    auto r = parse_object_spec("secret,id=sec0,data=letmein,format=raw");
    assert_true(r.ok());
    assert_string_equal(r->qom_type.c_str(), "secret");
    assert_string_equal(r->id.c_str(), "sec0");
    assert_int_equal(r->props.size(), 2);
    assert_string_equal(r->props["data"].get<std::string>().c_str(), "letmein");
    assert_string_equal(r->props["format"].get<std::string>().c_str(), "raw");
    assert_false(r->props.contains("id"));
    assert_false(r->props.contains("qom-type"));

    // ",," escapes a comma; values stay strings even when they look typed.
    auto e = parse_object_spec("tls-creds-x509,id=tls0,dir=/a,,b,verify-peer=off,n=5");
    assert_true(e.ok());
    assert_string_equal(e->props["dir"].get<std::string>().c_str(), "/a,b");
    assert_true(e->props["verify-peer"].is_string());
    assert_true(e->props["n"].is_string());

    auto explicit_type = parse_object_spec("id=s,qom-type=secret,data=x");
    assert_true(explicit_type.ok());
    assert_string_equal(explicit_type->qom_type.c_str(), "secret");

    auto last = parse_object_spec("secret,id=s,data=a,data=b");
    assert_true(last.ok());
    assert_string_equal(last->props["data"].get<std::string>().c_str(), "b");
}

struct ErrRow {
    const char *input;
    const char *error;
};

const ErrRow kErrors[] = {
    {"id=s,data=x", "Parameter 'qom-type' is missing"},
    {"", "Parameter 'qom-type' is missing"},
    {"secret,data=x", "Parameter 'id' is missing"},
    {"secret,id=0bad", "Parameter 'id' expects an identifier"},
    {"secret,id=s,flag", "Expected '=' after parameter 'flag'"},
    {"{\"id\":\"s\"}", "Parameter 'qom-type' is missing"},
    {"{\"qom-type\":\"secret\"}", "Parameter 'id' is missing"},
    {"{\"qom-type\":1,\"id\":\"s\"}", "Invalid parameter type for 'qom-type', expected: string"},
    {"{\"qom-type\":\"secret\",\"id\":true}", "Invalid parameter type for 'id', expected: string"},
    {"{\"qom-type\":\"secret\",\"id\":\"9\"}", "Parameter 'id' expects an identifier"},
};

void test_errors(void **)
{
    for (const ErrRow &row : kErrors) {
        print_message("# input '%s'\n", row.input);
        auto r = parse_object_spec(row.input);
        assert_false(r.ok());
        assert_string_equal(r.error().message.c_str(), row.error);
        assert_int_equal(static_cast<int>(r.error().code), static_cast<int>(ErrorCode::Opts));
    }
}

void test_json_form(void **)
{
    auto r = parse_object_spec(
        R"({"qom-type":"tls-creds-x509","id":"tls0","dir":"/pki","verify-peer":false,"n":3})");
    assert_true(r.ok());
    assert_string_equal(r->qom_type.c_str(), "tls-creds-x509");
    assert_string_equal(r->id.c_str(), "tls0");
    assert_int_equal(r->props.size(), 3);
    assert_true(r->props["verify-peer"].is_boolean());
    assert_true(r->props["n"].is_number_integer());
    assert_int_equal(r->props["n"].get<int>(), 3);

    // Malformed JSON is an Error, never an exception.
    for (const char *bad : {"{\"qom-type\":", "{", "{\"a\" 1}", "{} trailing"}) {
        print_message("# json '%s'\n", bad);
        auto e = parse_object_spec(bad);
        assert_false(e.ok());
        assert_true(e.error().message.rfind("JSON parse error, ", 0) == 0);
        assert_null(std::strstr(e.error().message.c_str(), "[json.exception"));
    }
}

void test_get_string(void **)
{
    auto r = parse_object_spec(R"({"qom-type":"secret","id":"s","data":"pw","n":1})");
    assert_true(r.ok());
    auto data = get_string(*r, "data");
    assert_true(data.ok());
    assert_true(data->has_value());
    assert_string_equal((*data)->c_str(), "pw");
    auto absent = get_string(*r, "file");
    assert_true(absent.ok());
    assert_false(absent->has_value());
    auto n = get_string(*r, "n");
    assert_false(n.ok());
    assert_string_equal(n.error().message.c_str(), "Invalid parameter type for 'n', expected: string");
}

void test_get_bool(void **)
{
    auto r = parse_object_spec(
        R"({"qom-type":"x","id":"s","a":true,"b":"no","c":"yes","d":"maybe","e":2})");
    assert_true(r.ok());
    auto a = get_bool(*r, "a", false);
    assert_true(a.ok() && *a);
    auto b = get_bool(*r, "b", true);
    assert_true(b.ok() && !*b);
    auto c = get_bool(*r, "c", false);
    assert_true(c.ok() && *c);
    auto d = get_bool(*r, "d", false);
    assert_false(d.ok());
    assert_string_equal(d.error().message.c_str(), "Parameter 'd' expects 'on' or 'off'");
    auto e = get_bool(*r, "e", false);
    assert_false(e.ok());
    assert_string_equal(e.error().message.c_str(), "Invalid parameter type for 'e', expected: boolean");
    auto def_on = get_bool(*r, "absent", true);
    assert_true(def_on.ok() && *def_on);
    auto def_off = get_bool(*r, "absent", false);
    assert_true(def_off.ok() && !*def_off);

    auto kv = parse_object_spec("tls-creds-x509,id=t,verify-peer=off");
    assert_true(kv.ok());
    auto vp = get_bool(*kv, "verify-peer", true);
    assert_true(vp.ok() && !*vp);
}

void test_check_known_props(void **)
{
    auto r = parse_object_spec("secret,id=s,data=x,format=raw");
    assert_true(r.ok());
    assert_true(check_known_props(*r, {"data", "format", "file"}).ok());
    auto st = check_known_props(*r, {"data"});
    assert_false(st.ok());
    assert_string_equal(st.error().message.c_str(), "Invalid parameter 'format'");
    auto empty = parse_object_spec("secret,id=s");
    assert_true(empty.ok());
    assert_true(check_known_props(*empty, {}).ok());
}

} // namespace

int main()
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keyval_form),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_json_form),
        cmocka_unit_test(test_get_string),
        cmocka_unit_test(test_get_bool),
        cmocka_unit_test(test_check_known_props),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
