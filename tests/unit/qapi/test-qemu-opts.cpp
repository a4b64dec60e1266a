// QemuOpts syntax: the cases of QEMU's tests/unit/test-qemu-opts.c (as
// listed in qemu-tests.md §6) plus the error texts and short-form warnings.
#include "cmocka.hpp"

#include <array>
#include <cstring>
#include <string>

#include "qemu-opts.hpp"

using namespace qvnc;
using namespace qvnc::opts;

namespace {

// "name=value|name=value" of the parsed items, in order.
std::string dump(const ParsedOpts &p)
{
    std::string out;
    for (const Opt &o : p.items) {
        if (!out.empty()) {
            out += '|';
        }
        out += o.name + "=" + o.str;
    }
    return out;
}

struct SyntaxRow {
    const char *input;
    const char *implied;  // "" = none
    const char *items;    // expected dump(), nullptr when an error is expected
    const char *id;       // expected id, nullptr = none
    size_t warnings;
    const char *error;    // expected message when items == nullptr
};

// Accept-any list (QEMU's opts_list_03).
const SyntaxRow kSyntax[] = {
    {"", "", "", nullptr, 0, nullptr},
    {"=val", "", "=val", nullptr, 0, nullptr},
    {"=val", "implied", "=val", nullptr, 0, nullptr},
    {"a=1,b=2,,x,a=3", "", "a=1|b=2,x|a=3", nullptr, 0, nullptr},
    {"id=foo,id=bar", "", "", "foo", 0, nullptr},
    {"x=y,", "", "x=y", nullptr, 0, nullptr},
    {",", "", "=on", nullptr, 1, nullptr},
    {"x=,,id=bar", "", "x=,id=bar", nullptr, 0, nullptr},
    {"id=666", "", nullptr, nullptr, 0, "Parameter 'id' expects an identifier"},
    {"id=a b", "", nullptr, nullptr, 0, "Parameter 'id' expects an identifier"},
    {"id=a-b.c_9", "", "", "a-b.c_9", 0, nullptr},
    {"an,noaus,noaus=", "", "an=on|aus=off|noaus=", nullptr, 2, nullptr},
    {"no", "", "=off", nullptr, 1, nullptr},
    {"an,noaus,noaus=", "implied", "implied=an|aus=off|noaus=", nullptr, 1, nullptr},
    {",", "implied", "implied=", nullptr, 0, nullptr},
    {",,,a=1", "implied", "implied=,|a=1", nullptr, 0, nullptr},
    {"a=b,c", "implied", "a=b|c=on", nullptr, 1, nullptr},
    {"unix:/a,,b=c,x=1", "implied", "implied=unix:/a,b=c|x=1", nullptr, 0, nullptr},
    // The id scan ignores the implied key (QEMU quirk): the escaped
    // ",,id=foo" is part of the implied value and still sets the id.
    {":0,,id=foo", "implied", "implied=:0,id=foo", "foo", 0, nullptr},
    {"k=v,,,,w", "", "k=v,,w", nullptr, 0, nullptr},
    {"k=v,,", "", "k=v,", nullptr, 0, nullptr},
    {"id", "", "", "on", 1, nullptr},
};

void test_syntax_table(void **)
{
    for (const SyntaxRow &row : kSyntax) {
        ParseOptions po;
        po.implied_key = row.implied;
        po.accept_any = true;
        auto r = parse_opts(row.input, {}, po);
        print_message("# input '%s'\n", row.input);
        if (row.items == nullptr) {
            assert_false(r.ok());
            assert_string_equal(r.error().message.c_str(), row.error);
            assert_int_equal(static_cast<int>(r.error().code), static_cast<int>(ErrorCode::Opts));
            continue;
        }
        assert_true(r.ok());
        assert_string_equal(dump(*r).c_str(), row.items);
        if (row.id == nullptr) {
            assert_false(r->id.has_value());
        } else {
            assert_true(r->id.has_value());
            assert_string_equal(r->id->c_str(), row.id);
        }
        assert_int_equal(r->warnings.size(), row.warnings);
        assert_false(r->help);
    }
}

void test_last_wins_and_repeats(void **)
{
    ParseOptions po;
    po.accept_any = true;
    po.implied_key = "vnc";
    auto r = parse_opts(":1,vnc=:2,a=1,vnc=unix:/x,a=3", {}, po);
    assert_true(r.ok());
    assert_string_equal(std::string(*r->get("a")).c_str(), "3");
    auto all = r->get_all("vnc");
    assert_int_equal(all.size(), 3);
    assert_string_equal(std::string(all[0]).c_str(), ":1");
    assert_string_equal(std::string(all[1]).c_str(), ":2");
    assert_string_equal(std::string(all[2]).c_str(), "unix:/x");
    assert_string_equal(std::string(*r->get("vnc")).c_str(), "unix:/x");
    assert_false(r->get("missing").has_value());
    assert_null(r->find("missing"));
    assert_true(r->get_all("missing").empty());
}

constexpr std::array kTyped = {
    OptDesc{"str", OptType::String}, OptDesc{"bool1", OptType::Bool},
    OptDesc{"bool2", OptType::Bool}, OptDesc{"num", OptType::Number},
    OptDesc{"size", OptType::Size},
};

Result<ParsedOpts> parse_typed(const char *text)
{
    ParseOptions po;
    return parse_opts(text, kTyped, po);
}

void test_unknown_key(void **)
{
    struct {
        const char *input, *error;
    } rows[] = {
        {"nonexistent=", "Invalid parameter 'nonexistent'"},
        {"str=a,bogus=1", "Invalid parameter 'bogus'"},
        {"=x", "Invalid parameter ''"},
        {",", "Invalid parameter ''"},
        {"nobogus", "Invalid parameter 'bogus'"},
        {"help=1", "Invalid parameter 'help'"},
        {"nohelp", "Invalid parameter 'help'"},
    };
    for (const auto &row : rows) {
        auto r = parse_typed(row.input);
        print_message("# input '%s'\n", row.input);
        assert_false(r.ok());
        assert_string_equal(r.error().message.c_str(), row.error);
    }
}

void test_bool(void **)
{
    auto r = parse_typed("bool1=on,bool2=off");
    assert_true(r.ok());
    assert_true(r->get_bool("bool1", false));
    assert_false(r->get_bool("bool2", true));
    assert_true(r->get_bool("absent", true));
    assert_false(r->get_bool("absent", false));

    struct {
        const char *value;
        bool expect;
    } good[] = {{"on", true}, {"yes", true}, {"true", true}, {"y", true},
                {"off", false}, {"no", false}, {"false", false}, {"n", false}};
    for (const auto &g : good) {
        auto b = parse_bool("k", g.value);
        assert_true(b.ok());
        assert_int_equal(*b, g.expect);
    }
    for (const char *bad : {"offer", "ON", "Yes", "1", "0", "", "true "}) {
        auto b = parse_bool("bool1", bad);
        assert_false(b.ok());
        assert_string_equal(b.error().message.c_str(), "Parameter 'bool1' expects 'on' or 'off'");
    }
    auto e = parse_typed("bool1=offer");
    assert_false(e.ok());
    assert_string_equal(e.error().message.c_str(), "Parameter 'bool1' expects 'on' or 'off'");

    // Short forms on bool keys, with QEMU's two-line deprecation notice.
    auto s = parse_typed("bool1,nobool2");
    assert_true(s.ok());
    assert_true(s->get_bool("bool1", false));
    assert_false(s->get_bool("bool2", true));
    assert_int_equal(s->warnings.size(), 2);
    assert_string_equal(s->warnings[0].c_str(),
                        "short-form boolean option 'bool1' deprecated\nPlease use bool1=on instead");
    assert_string_equal(s->warnings[1].c_str(),
                        "short-form boolean option 'nobool2' deprecated\nPlease use bool2=off instead");
    // A bare flag on a string key is the literal "on".
    auto str = parse_typed("str");
    assert_true(str.ok());
    assert_string_equal(std::string(*str->get("str")).c_str(), "on");
}

struct NumRow {
    const char *value;
    bool ok;
    uint64_t expect;
    const char *error;
};

const NumRow kNumbers[] = {
    {"0", true, 0, nullptr},
    {"18446744073709551615", true, UINT64_MAX, nullptr},
    {"-1", true, UINT64_MAX, nullptr},
    {"0x2a", true, 42, nullptr},
    {"052", true, 42, nullptr},
    {" \t42", true, 42, nullptr},
    {"18446744073709551616", false, 0, "Value '18446744073709551616' is too large for parameter 'num'"},
    {"-18446744073709551616", false, 0, "Value '-18446744073709551616' is too large for parameter 'num'"},
    {"", false, 0, "Parameter 'num' expects a number"},
    {"eins", false, 0, "Parameter 'num' expects a number"},
    {"3.14", false, 0, "Parameter 'num' expects a number"},
    {"08", false, 0, "Parameter 'num' expects a number"},
    {"0 ", false, 0, "Parameter 'num' expects a number"},
    {"on", false, 0, "Parameter 'num' expects a number"},
};

void test_number(void **)
{
    for (const NumRow &row : kNumbers) {
        print_message("# number '%s'\n", row.value);
        auto r = parse_number("num", row.value);
        assert_int_equal(r.ok(), row.ok);
        if (row.ok) {
            assert_true(*r == row.expect);
        } else {
            assert_string_equal(r.error().message.c_str(), row.error);
        }
    }
    auto p = parse_typed("num=0x10");
    assert_true(p.ok());
    assert_int_equal(p->get_number("num", 7), 16);
    assert_int_equal(p->get_number("absent", 7), 7);
    // A bare number key reads as "on".
    auto bare = parse_typed("num");
    assert_false(bare.ok());
    assert_string_equal(bare.error().message.c_str(), "Parameter 'num' expects a number");
}

const NumRow kSizes[] = {
    {"0", true, 0, nullptr},
    {"18446744073709551615", true, UINT64_MAX, nullptr},
    {"8b", true, 8, nullptr},
    {"8B", true, 8, nullptr},
    {"1.5k", true, 1536, nullptr},
    {"1.k", true, 1024, nullptr},
    {"2M", true, 2u << 20, nullptr},
    {"0.1G", true, (uint64_t{1} << 30) / 10, nullptr},
    {"16777215T", true, uint64_t{16777215} << 40, nullptr},
    {"-1", false, 0, "Parameter 'size' expects a non-negative number below 2^64"},
    {"18446744073709551616", false, 0, "Value '18446744073709551616' is out of range for parameter 'size'"},
    {"16777216T", false, 0, "Value '16777216T' is out of range for parameter 'size'"},
    {"16E", false, 0, "Value '16E' is out of range for parameter 'size'"},
    {"16Gi", false, 0, "Parameter 'size' expects a non-negative number below 2^64"},
    {"0x20", false, 0, "Parameter 'size' expects a non-negative number below 2^64"},
    {"1.5", false, 0, "Parameter 'size' expects a non-negative number below 2^64"},
    {"", false, 0, "Parameter 'size' expects a non-negative number below 2^64"},
    {"k", false, 0, "Parameter 'size' expects a non-negative number below 2^64"},
};

void test_size(void **)
{
    for (const NumRow &row : kSizes) {
        print_message("# size '%s'\n", row.value);
        auto r = parse_size("size", row.value);
        assert_int_equal(r.ok(), row.ok);
        if (row.ok) {
            assert_true(*r == row.expect);
        } else {
            assert_string_equal(r.error().message.c_str(), row.error);
        }
    }
    auto p = parse_typed("size=4k");
    assert_true(p.ok());
    assert_int_equal(p->get_size("size", 0), 4096);
}

void test_help(void **)
{
    struct {
        const char *input;
        const char *implied;
        bool help;
    } rows[] = {
        {"help", "", true},     {"?", "", true},         {"help", "implied", false},
        {"helpme", "", false},  {"?me", "", false},      {"a,help", "", true},
        {"a,help", "implied", true}, {"a,?", "", true},  {"a=0,help,b", "", true},
        {"a=0,help,b", "implied", true}, {"a,b,,help", "", true},
        {"a,b,,help", "implied", true}, {"help,b=1", "", true},
        {"help,b=1", "implied", false}, {"nohelp", "", false},
    };
    for (const auto &row : rows) {
        ParseOptions po;
        po.implied_key = row.implied;
        po.accept_any = true;
        print_message("# help '%s' implied '%s'\n", row.input, row.implied);
        auto r = parse_opts(row.input, {}, po);
        assert_true(r.ok());
        assert_int_equal(r->help, row.help);
    }
    // A help request is not a deprecated short form.
    ParseOptions po;
    po.accept_any = true;
    auto r = parse_opts("help", {}, po);
    assert_true(r.ok());
    assert_true(r->warnings.empty());
}

void test_reject_short_form(void **)
{
    ParseOptions po;
    po.implied_key = "qom-type";
    po.accept_any = true;
    po.short_form = ShortForm::Reject;
    auto r = parse_opts("secret,id=s,foo", {}, po);
    assert_false(r.ok());
    assert_string_equal(r.error().message.c_str(), "Expected '=' after parameter 'foo'");
    auto n = parse_opts("secret,id=s,nofoo", {}, po);
    assert_false(n.ok());
    assert_string_equal(n.error().message.c_str(), "Expected '=' after parameter 'nofoo'");
    auto h = parse_opts("secret,help", {}, po);
    assert_true(h.ok());
    assert_true(h->help);
    auto ok = parse_opts("secret,id=s,data=x", {}, po);
    assert_true(ok.ok());
    assert_string_equal(dump(*ok).c_str(), "qom-type=secret|data=x");
}

void test_duplicate_id(void **)
{
    ParseOptions po;
    po.accept_any = true;
    po.list_name = "vnc";
    po.id_taken = [](std::string_view id) { return id == "taken"; };
    auto r = parse_opts("x=y,id=taken", {}, po);
    assert_false(r.ok());
    assert_string_equal(r.error().message.c_str(), "Duplicate ID 'taken' for vnc");
    auto ok = parse_opts("x=y,id=free", {}, po);
    assert_true(ok.ok());
    assert_string_equal(ok->id->c_str(), "free");
    // The id is checked before the options, as in qemu_opts_create().
    ParseOptions strict;
    auto order = parse_opts("bogus=1,id=9", {}, strict);
    assert_false(order.ok());
    assert_string_equal(order.error().message.c_str(), "Parameter 'id' expects an identifier");
}

void test_id_wellformed(void **)
{
    assert_true(id_wellformed("a"));
    assert_true(id_wellformed("vnc2"));
    assert_true(id_wellformed("A-b.c_d"));
    assert_false(id_wellformed(""));
    assert_false(id_wellformed("2vnc"));
    assert_false(id_wellformed("-a"));
    assert_false(id_wellformed("a,b"));
    assert_false(id_wellformed("a b"));
    assert_true(is_help_option("help"));
    assert_true(is_help_option("?"));
    assert_false(is_help_option("Help"));
    assert_false(is_help_option(""));
}

void test_format_help(void **)
{
    std::string h = format_help("test", kTyped);
    assert_string_equal(h.c_str(), "test options:\n"
                                   "  bool1=<bool (on/off)>\n"
                                   "  bool2=<bool (on/off)>\n"
                                   "  num=<num>\n"
                                   "  size=<size>\n"
                                   "  str=<str>\n");
    assert_string_equal(format_help("empty", {}).c_str(), "There are no options for empty.\n");
}

} // namespace

int main()
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_syntax_table),
        cmocka_unit_test(test_last_wins_and_repeats),
        cmocka_unit_test(test_unknown_key),
        cmocka_unit_test(test_bool),
        cmocka_unit_test(test_number),
        cmocka_unit_test(test_size),
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_reject_short_form),
        cmocka_unit_test(test_duplicate_id),
        cmocka_unit_test(test_id_wellformed),
        cmocka_unit_test(test_format_help),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
