// string.format, with the common conversions done here and everything else by Lua's own.
//
// Stock string.format hands every conversion to snprintf: a plugin's "t=%d.%03d" costs two
// trips through glibc's printf machinery (about 0.5 us in a request's phase), request-id's
// "%08x-%04x-…" six. The formats plugins build headers and ids with, plain `%d`/`%i`/`%x`/
// `%X` of an integer (no flag, or `0` or `-`, and a width), plain `%s` of a string, and `%%`,
// are written here straight into the result. A format with anything else (another
// conversion, a precision, another flag, a float for `%d`, a number or a table for `%s`, a
// missing argument) goes whole to Lua's string.format, called in place with this call's
// stack, so its results and its errors ("bad argument #2 to 'format'") are exactly Lua's.

#include "CLuaShims.h"

#include <string.h>

// Lua's string.format (upvalue 1), for every format this one does not take.
static int luxy_stock_format(lua_State *L) {
    lua_CFunction stock = lua_tocfunction(L, lua_upvalueindex(1));
    return stock(L);
}

// One conversion spec of the supported kinds, read at `*p` (just past the '%').
typedef struct {
    char conversion;  // 'd' (for 'd' and 'i'), 'x', 'X', 's' or '%'
    char flag;        // 0, '0' or '-'
    int width;        // 0 to 99
} luxy_spec;

// Reads the spec at `p`; returns the byte after it, or NULL for a spec this file leaves to
// Lua (including every spec Lua itself refuses).
static const char *luxy_read_spec(const char *p, const char *end, luxy_spec *spec) {
    spec->flag = 0;
    spec->width = 0;
    if (p < end && *p == '%') {
        spec->conversion = '%';
        return p + 1;
    }
    if (p < end && (*p == '0' || *p == '-')) spec->flag = *p++;
    // Lua takes at most two width digits.
    for (int digits = 0; p < end && *p >= '0' && *p <= '9'; digits++, p++) {
        if (digits == 2) return NULL;
        spec->width = spec->width * 10 + (*p - '0');
    }
    if (p >= end) return NULL;
    switch (*p) {
    case 'd':
    case 'i':
        spec->conversion = 'd';
        return p + 1;
    case 'x':
    case 'X':
        spec->conversion = *p;
        return p + 1;
    case 's':
        // Plain `%s` only: a width or a flag on it is Lua's (luaL_tolstring and padding).
        if (spec->flag != 0 || spec->width != 0) return NULL;
        spec->conversion = 's';
        return p + 1;
    default:
        return NULL;
    }
}

// Whether every spec of the format is one this file writes, and every argument is of the
// kind its spec takes here.
static int luxy_format_is_simple(lua_State *L, const char *format, size_t length) {
    const char *p = format, *end = format + length;
    int arg = 1, top = lua_gettop(L);
    while ((p = memchr(p, '%', (size_t)(end - p))) != NULL) {
        luxy_spec spec;
        p = luxy_read_spec(p + 1, end, &spec);
        if (p == NULL) return 0;
        if (spec.conversion == '%') continue;
        if (++arg > top) return 0;
        if (spec.conversion != 's' && !lua_isinteger(L, arg)) return 0;
        if (spec.conversion == 's' && lua_type(L, arg) != LUA_TSTRING) return 0;
    }
    return 1;
}

// `value` in decimal (`d`) or hexadecimal (`x`, `X`), padded as printf pads "%d", "%0Nd" and
// "%-Nd". Hexadecimal prints the integer's bits as unsigned, as printf's "%llx" does.
static void luxy_add_integer(luaL_Buffer *b, lua_Integer value, const luxy_spec *spec) {
    char digits[24];
    int count = 0;
    int hex = spec->conversion != 'd';
    int negative = !hex && value < 0;
    const char *alphabet = spec->conversion == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
    lua_Unsigned base = hex ? 16 : 10;
    // Through the unsigned magnitude: -LUA_MININTEGER does not fit a lua_Integer.
    lua_Unsigned magnitude = negative ? (lua_Unsigned)0 - (lua_Unsigned)value : (lua_Unsigned)value;
    do {
        digits[count++] = alphabet[magnitude % base];
        magnitude /= base;
    } while (magnitude > 0);
    int length = count + negative;
    int padding = spec->width > length ? spec->width - length : 0;
    if (spec->flag == 0) {
        for (int i = 0; i < padding; i++) luaL_addchar(b, ' ');
    }
    if (negative) luaL_addchar(b, '-');
    if (spec->flag == '0') {
        for (int i = 0; i < padding; i++) luaL_addchar(b, '0');
    }
    while (count > 0) luaL_addchar(b, digits[--count]);
    if (spec->flag == '-') {
        for (int i = 0; i < padding; i++) luaL_addchar(b, ' ');
    }
}

static int luxy_string_format(lua_State *L) {
    size_t length;
    const char *format = luaL_checklstring(L, 1, &length);
    if (!luxy_format_is_simple(L, format, length)) return luxy_stock_format(L);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    const char *p = format, *end = format + length;
    int arg = 1;
    const char *percent;
    while ((percent = memchr(p, '%', (size_t)(end - p))) != NULL) {
        luaL_addlstring(&b, p, (size_t)(percent - p));
        luxy_spec spec;
        p = luxy_read_spec(percent + 1, end, &spec);
        switch (spec.conversion) {
        case '%':
            luaL_addchar(&b, '%');
            break;
        case 'd':
        case 'x':
        case 'X':
            luxy_add_integer(&b, lua_tointeger(L, ++arg), &spec);
            break;
        default: {
            size_t l;
            const char *s = lua_tolstring(L, ++arg, &l);
            luaL_addlstring(&b, s, l);
            break;
        }
        }
    }
    luaL_addlstring(&b, p, (size_t)(end - p));
    luaL_pushresult(&b);
    return 1;
}

void luxy_install_format(lua_State *L, int string_library) {
    string_library = lua_absindex(L, string_library);
    lua_getfield(L, string_library, "format");
    lua_pushcclosure(L, luxy_string_format, 1);
    lua_setfield(L, string_library, "format");
}
