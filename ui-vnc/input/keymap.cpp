#include "keymap.hpp"

#include <xkbcommon/xkbcommon-keysyms.h>
#include <xkbcommon/xkbcommon.h>

#include <algorithm>
#include <array>
#include <memory>

#include "evdev-qnum.hpp"

namespace qvnc::vnc {

namespace {

// QEMU's keymap names and the xkeyboard-config layout each one is generated
// from (QEMU's pc-bios/keymaps/meson.build passes the same layout, variant
// and model to qemu-keymap).  Two entries follow the name rather than
// QEMU's table: "et" (Estonian) is xkb's "ee" (QEMU asks for "et", which
// xkeyboard-config names Amharic), and "bepo" is fr(bepo) (QEMU uses
// fr(dvorak)).  "sv" and "sl" are hand-written files in QEMU's tree.
struct LayoutSpec {
    std::string_view name;
    const char *layout;
    const char *variant;
    const char *model;
};

constexpr std::array kLayouts = {
    LayoutSpec{"ar", "ara", "", "pc105"},
    LayoutSpec{"bepo", "fr", "bepo", "pc105"},
    LayoutSpec{"cz", "cz", "", "pc105"},
    LayoutSpec{"da", "dk", "", "pc105"},
    LayoutSpec{"de", "de", "nodeadkeys", "pc105"},
    LayoutSpec{"de-ch", "ch", "", "pc105"},
    LayoutSpec{"en-gb", "gb", "", "pc105"},
    LayoutSpec{"en-us", "us", "", "pc105"},
    LayoutSpec{"es", "es", "", "pc105"},
    LayoutSpec{"et", "ee", "", "pc105"},
    LayoutSpec{"fi", "fi", "", "pc105"},
    LayoutSpec{"fo", "fo", "", "pc105"},
    LayoutSpec{"fr", "fr", "nodeadkeys", "pc105"},
    LayoutSpec{"fr-be", "be", "", "pc105"},
    LayoutSpec{"fr-ca", "ca", "fr", "pc105"},
    LayoutSpec{"fr-ch", "ch", "fr", "pc105"},
    LayoutSpec{"hr", "hr", "", "pc105"},
    LayoutSpec{"hu", "hu", "", "pc105"},
    LayoutSpec{"is", "is", "", "pc105"},
    LayoutSpec{"it", "it", "", "pc105"},
    LayoutSpec{"ja", "jp", "", "jp106"},
    LayoutSpec{"lt", "lt", "", "pc105"},
    LayoutSpec{"lv", "lv", "", "pc105"},
    LayoutSpec{"mk", "mk", "", "pc105"},
    LayoutSpec{"nl", "nl", "", "pc105"},
    LayoutSpec{"no", "no", "", "pc105"},
    LayoutSpec{"pl", "pl", "", "pc105"},
    LayoutSpec{"pt", "pt", "", "pc105"},
    LayoutSpec{"pt-br", "br", "", "pc105"},
    LayoutSpec{"ru", "ru", "", "pc105"},
    LayoutSpec{"sl", "si", "", "pc105"},
    LayoutSpec{"sv", "se", "", "pc105"},
    LayoutSpec{"th", "th", "", "pc105"},
    LayoutSpec{"tr", "tr", "", "pc105"},
};

struct XkbContextDeleter {
    void operator()(xkb_context *c) const { xkb_context_unref(c); }
};
struct XkbKeymapDeleter {
    void operator()(xkb_keymap *k) const { xkb_keymap_unref(k); }
};
struct XkbStateDeleter {
    void operator()(xkb_state *s) const { xkb_state_unref(s); }
};
using XkbState = std::unique_ptr<xkb_state, XkbStateDeleter>;

bool is_keypad_keysym(uint32_t ks)
{
    return ks >= XKB_KEY_KP_Space && ks <= XKB_KEY_KP_Equal;
}

// The real modifiers that a key producing `target` at its first level sets
// (depressed) or locks: ISO_Level3_Shift -> usually Mod5, Num_Lock ->
// usually Mod2.  Asked from the keymap rather than assumed.
xkb_mod_mask_t modifier_of(xkb_keymap *km, xkb_keysym_t target, bool locking, const char *fallback)
{
    for (xkb_keycode_t kc = xkb_keymap_min_keycode(km); kc <= xkb_keymap_max_keycode(km); kc++) {
        const xkb_keysym_t *syms = nullptr;
        int n = xkb_keymap_key_get_syms_by_level(km, kc, 0, 0, &syms);
        if (n != 1 || syms[0] != target) {
            continue;
        }
        XkbState st(xkb_state_new(km));
        if (!st) {
            break;
        }
        xkb_state_update_key(st.get(), kc, XKB_KEY_DOWN);
        if (locking) {
            xkb_state_update_key(st.get(), kc, XKB_KEY_UP);
        }
        xkb_mod_mask_t m = xkb_state_serialize_mods(
            st.get(), locking ? XKB_STATE_MODS_LOCKED : XKB_STATE_MODS_DEPRESSED);
        if (m) {
            return m;
        }
    }
    xkb_mod_index_t idx = xkb_keymap_mod_get_index(km, fallback);
    return idx == XKB_MOD_INVALID ? 0 : xkb_mod_mask_t{1} << idx;
}

} // namespace

class KeymapBuilder {
public:
    static Result<Keymap> build(const LayoutSpec &spec);
};

Result<Keymap> KeymapBuilder::build(const LayoutSpec &spec)
{
    auto fail = [&] {
        return make_error(ErrorCode::NotFound, "could not read keymap file: '%.*s'",
                          static_cast<int>(spec.name.size()), spec.name.data());
    };
    // XKB_DEFAULT_LAYOUT and friends must not change what -k de means.
    std::unique_ptr<xkb_context, XkbContextDeleter> ctx(xkb_context_new(XKB_CONTEXT_NO_ENVIRONMENT_NAMES));
    if (!ctx) {
        return fail();
    }
    xkb_context_set_log_level(ctx.get(), XKB_LOG_LEVEL_CRITICAL);
    xkb_rule_names names{};
    names.rules = "evdev";
    names.model = spec.model;
    names.layout = spec.layout;
    names.variant = spec.variant;
    names.options = "";
    std::unique_ptr<xkb_keymap, XkbKeymapDeleter> km(
        xkb_keymap_new_from_names(ctx.get(), &names, XKB_KEYMAP_COMPILE_NO_FLAGS));
    if (!km) {
        return fail();
    }

    xkb_mod_index_t shift_idx = xkb_keymap_mod_get_index(km.get(), XKB_MOD_NAME_SHIFT);
    const xkb_mod_mask_t shift = shift_idx == XKB_MOD_INVALID ? 0 : xkb_mod_mask_t{1} << shift_idx;
    const xkb_mod_mask_t altgr = modifier_of(km.get(), XKB_KEY_ISO_Level3_Shift, false, "Mod5");
    const xkb_mod_mask_t numlock = modifier_of(km.get(), XKB_KEY_Num_Lock, true, "Mod2");

    struct Combo {
        xkb_mod_mask_t depressed;
        xkb_mod_mask_t locked;
        bool shift, altgr, numlock;
    };
    // In order of preference: a keysym reachable several ways keeps the
    // first (fewest modifiers) on each key.
    std::vector<Combo> combos = {{0, 0, false, false, false}};
    if (shift) {
        combos.push_back({shift, 0, true, false, false});
    }
    if (altgr) {
        combos.push_back({altgr, 0, false, true, false});
        if (shift) {
            combos.push_back({shift | altgr, 0, true, true, false});
        }
    }
    if (numlock) {
        combos.push_back({0, numlock, false, false, true});
    }

    struct Entry {
        Keymap::KeyPress kp;
        unsigned rank;
        xkb_keycode_t kc;
    };
    std::unordered_map<uint32_t, std::vector<Entry>> entries;
    XkbState st(xkb_state_new(km.get()));
    if (!st) {
        return fail();
    }
    for (const Combo &c : combos) {
        xkb_state_update_mask(st.get(), c.depressed, 0, c.locked, 0, 0, 0);
        const unsigned rank = (c.numlock ? 4u : 0u) + (c.shift ? 1u : 0u) + (c.altgr ? 2u : 0u);
        for (xkb_keycode_t kc = xkb_keymap_min_keycode(km.get()); kc <= xkb_keymap_max_keycode(km.get()); kc++) {
            const uint32_t qnum = xkb_keycode_to_qnum(kc);
            if (!qnum) {
                continue;
            }
            const xkb_keysym_t sym = xkb_state_key_get_one_sym(st.get(), kc);
            if (sym == XKB_KEY_NoSymbol || sym == XKB_KEY_VoidSymbol) {
                continue;
            }
            auto &list = entries[sym];
            bool seen = std::any_of(list.begin(), list.end(), [&](const Entry &e) { return e.kp.qnum == qnum; });
            if (!seen) {
                list.push_back({{qnum, c.shift, c.altgr, c.numlock}, rank, kc});
            }
        }
    }

    Keymap map;
    map.name_ = std::string(spec.name);
    std::unordered_map<uint32_t, unsigned> cp_rank;
    for (auto &[sym, list] : entries) {
        std::stable_sort(list.begin(), list.end(), [](const Entry &a, const Entry &b) {
            return a.rank != b.rank ? a.rank < b.rank : a.kc < b.kc;
        });
        auto &out = map.by_keysym_[sym];
        for (const Entry &e : list) {
            out.push_back(e.kp);
        }
        // Unicode fallback index; keypad keysyms also have code points
        // (KP_1 is '1') but must not stand in for the main keys.
        const uint32_t cp = xkb_keysym_to_utf32(sym);
        if (cp < 0x20 || cp == 0x7f || is_keypad_keysym(sym)) {
            continue;
        }
        auto it = cp_rank.find(cp);
        if (it == cp_rank.end() || list.front().rank < it->second ||
            (list.front().rank == it->second && sym < map.by_codepoint_[cp])) {
            cp_rank[cp] = list.front().rank;
            map.by_codepoint_[cp] = sym;
        }
    }
    if (map.by_keysym_.empty()) {
        return fail();
    }
    return map;
}

Result<Keymap> Keymap::load(std::string_view layout)
{
    for (const LayoutSpec &spec : kLayouts) {
        if (spec.name == layout) {
            return KeymapBuilder::build(spec);
        }
    }
    return make_error(ErrorCode::NotFound, "could not read keymap file: '%.*s'", static_cast<int>(layout.size()),
                      layout.data());
}

std::vector<std::string_view> Keymap::known_layouts()
{
    std::vector<std::string_view> v;
    for (const LayoutSpec &spec : kLayouts) {
        v.push_back(spec.name);
    }
    std::sort(v.begin(), v.end());
    return v;
}

std::span<const Keymap::KeyPress> Keymap::candidates(uint32_t keysym) const
{
    // Clients should send Tab with Shift, but some send ISO_Left_Tab.
    if (keysym == XKB_KEY_ISO_Left_Tab) {
        keysym = XKB_KEY_Tab;
    }
    auto it = by_keysym_.find(keysym);
    if (it != by_keysym_.end()) {
        return it->second;
    }
    // U+20AC may arrive as EuroSign (0x20ac) or as 0x10020ac.
    const uint32_t cp = xkb_keysym_to_utf32(keysym);
    if (cp >= 0x20) {
        auto c = by_codepoint_.find(cp);
        if (c != by_codepoint_.end()) {
            return by_keysym_.at(c->second);
        }
    }
    return {};
}

std::optional<Keymap::KeyPress> Keymap::lookup(uint32_t keysym) const
{
    auto c = candidates(keysym);
    if (c.empty()) {
        return std::nullopt;
    }
    return c.front();
}

} // namespace qvnc::vnc
