#include "store/sql_dialect.h"

#include <cctype>
#include <map>

namespace switchboard::host {

std::string numberPlaceholders(std::string_view sql) {
    std::string out;
    out.reserve(sql.size() + 16);
    int n = 0;
    for (size_t i = 0; i < sql.size(); ++i) {
        char c = sql[i];
        if (c == '\'' || c == '"') {  // '...' or "..." ('' / "" escape by doubling: same loop)
            size_t end = sql.find(c, i + 1);
            if (end == std::string_view::npos) end = sql.size() - 1;
            out.append(sql.substr(i, end - i + 1));
            i = end;
        } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
            size_t end = sql.find('\n', i);
            if (end == std::string_view::npos) end = sql.size() - 1;
            out.append(sql.substr(i, end - i + 1));
            i = end;
        } else if (c == '?') {
            out += '$';
            out += std::to_string(++n);
        } else {
            out += c;
        }
    }
    return out;
}

std::string SqlDialect::placeholders(std::string_view sql) const {
    return isPostgres() ? numberPlaceholders(sql) : std::string(sql);
}

namespace {

bool wordChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// Replaces the whole word `from` (not part of a longer identifier) with `to`.
std::string replaceWord(const std::string& text, const std::string& from, const std::string& to) {
    std::string out;
    size_t pos = 0;
    while (true) {
        size_t hit = text.find(from, pos);
        if (hit == std::string::npos) break;
        bool before = hit > 0 && wordChar(text[hit - 1]);
        bool after = hit + from.size() < text.size() && wordChar(text[hit + from.size()]);
        out.append(text, pos, hit - pos);
        out += (before || after) ? from : to;
        pos = hit + from.size();
    }
    out.append(text, pos, std::string::npos);
    return out;
}

}  // namespace

std::string SqlDialect::ddl(std::string_view sqliteDdl) const {
    std::string sql(sqliteDdl);
    if (!isPostgres()) return sql;
    sql = replaceWord(sql, "INTEGER PRIMARY KEY AUTOINCREMENT", "BIGSERIAL PRIMARY KEY");
    sql = replaceWord(sql, "INTEGER", "BIGINT");
    sql = replaceWord(sql, "BLOB", "BYTEA");
    // `name COLLATE NOCASE` -> lower(name)
    const std::string nocase = " COLLATE NOCASE";
    for (size_t hit; (hit = sql.find(nocase)) != std::string::npos;) {
        size_t start = hit;
        while (start > 0 && wordChar(sql[start - 1])) --start;
        std::string column = sql.substr(start, hit - start);
        sql.replace(start, hit + nocase.size() - start, "lower(" + column + ")");
    }
    return sql;
}

std::vector<std::pair<std::string, std::string>> conninfoLocation(std::string_view conninfo) {
    std::map<std::string, std::string> fields;
    std::string_view s = conninfo;
    if (s.rfind("postgresql://", 0) == 0 || s.rfind("postgres://", 0) == 0) {
        s.remove_prefix(s.find("//") + 2);
        std::string_view rest = s.substr(0, s.find('?'));
        size_t at = rest.rfind('@');
        if (at != std::string_view::npos) rest.remove_prefix(at + 1);  // user:password@
        size_t slash = rest.find('/');
        std::string_view hostPort = rest.substr(0, slash);
        if (slash != std::string_view::npos) fields["dbname"] = std::string(rest.substr(slash + 1));
        size_t colon = hostPort.rfind(':');
        if (colon != std::string_view::npos && hostPort.find(']') == std::string_view::npos) {
            fields["port"] = std::string(hostPort.substr(colon + 1));
            hostPort = hostPort.substr(0, colon);
        }
        if (!hostPort.empty()) fields["host"] = std::string(hostPort);
    } else {
        size_t i = 0;
        while (i < s.size()) {
            while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
            size_t eq = s.find('=', i);
            if (eq == std::string_view::npos) break;
            std::string key(s.substr(i, eq - i));
            while (!key.empty() && std::isspace(static_cast<unsigned char>(key.back()))) key.pop_back();
            i = eq + 1;
            while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
            std::string value;
            if (i < s.size() && s[i] == '\'') {
                for (++i; i < s.size() && s[i] != '\''; ++i) {
                    if (s[i] == '\\' && i + 1 < s.size()) ++i;
                    value += s[i];
                }
                ++i;
            } else {
                while (i < s.size() && !std::isspace(static_cast<unsigned char>(s[i]))) value += s[i++];
            }
            fields[key] = value;
        }
    }
    std::vector<std::pair<std::string, std::string>> out;
    for (const char* key : {"host", "port", "dbname"}) {
        auto it = fields.find(key);
        if (it != fields.end()) out.emplace_back(key, it->second);
    }
    return out;
}

std::string describeConninfo(std::string_view conninfo) {
    std::string out;
    for (const auto& [key, value] : conninfoLocation(conninfo)) out += (out.empty() ? "" : " ") + key + "=" + value;
    return out;
}

}  // namespace switchboard::host
