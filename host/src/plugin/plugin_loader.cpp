#include "plugin/plugin_loader.h"

#include <boost/dll/shared_library.hpp>
#include <re2/re2.h>

#include <dlfcn.h>

#include <cstring>
#include <string>

namespace switchboard::host {

namespace {

const std::string kRebuild = "rebuild it against Switchboard SDK " + std::to_string(SB_ABI_VERSION_MAJOR) +
                             ".x (find_package(SwitchboardSDK " + std::to_string(SB_ABI_VERSION_MAJOR) + "))";

std::string refuse(const std::string& file, const std::string& what) { return "plugin " + file + ": " + what; }

bool validName(const char* s, bool allowDash) {
    if (s == nullptr || *s == '\0') return false;
    for (const char* p = s; *p; ++p) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || (allowDash && c == '-');
        if (!ok) return false;
    }
    return true;
}

std::string readConstraints(const sb_option& o, OptionSpec& spec);

// Checks the option table and copies it; returns an error text or "".
std::string readSchema(const sb_plugin_descriptor& d, OptionSchema& out) {
    if (d.option_count > 0 && d.options == nullptr) return "option_count is " + std::to_string(d.option_count) +
                                                          " but options is NULL";
    if (d.option_count > 1000) return "option_count " + std::to_string(d.option_count) + " is implausible";
    for (size_t i = 0; i < d.option_count; ++i) {
        const sb_option* entry = SB_ARRAY_AT(sb_option, d.options, i);
        const sb_option& o = *entry;
        const std::string at = "option #" + std::to_string(i);
        if (o.struct_size < offsetof(sb_option, description) + sizeof(o.description))
            return at + ": struct_size " + std::to_string(o.struct_size) + " is smaller than the 1.0 sb_option (" +
                   std::to_string(offsetof(sb_option, description) + sizeof(o.description)) + " bytes)";
        if (!validName(o.name, false)) return at + ": name must be non-empty [a-z0-9_]";
        if (o.type < SB_OPT_STRING || o.type > SB_OPT_STRING_LIST)
            return at + " '" + o.name + "': unknown type " + std::to_string(static_cast<int>(o.type));
        for (const auto& seen : out)
            if (seen.name == o.name) return at + ": option '" + seen.name + "' is declared twice";
        OptionSpec spec;
        spec.name = o.name;
        spec.type = o.type;
        spec.required = (o.flags & SB_OPTION_REQUIRED) != 0;
        spec.secret = (o.flags & SB_OPTION_SECRET) != 0;
        if (o.default_value) spec.defaultValue = o.default_value;
        spec.description = o.description ? o.description : "";
        if (spec.required && spec.defaultValue)
            return at + " '" + spec.name + "': a required option cannot have a default";
        if (SB_HAS_FIELD(entry, sb_option, one_of_group)) {
            if (std::string err = readConstraints(o, spec); !err.empty()) return at + " '" + spec.name + "': " + err;
        }
        out.push_back(std::move(spec));
    }
    for (const auto& spec : out) {
        for (const auto& needed : spec.constraints.requires_) {
            bool known = false;
            for (const auto& other : out) known = known || other.name == needed;
            if (!known) return "option '" + spec.name + "' requires option '" + needed + "', which is not declared";
        }
    }
    return "";
}

// The 1.4 constraints of one option. Bounds are checked against the option's type when a
// config is validated (like defaults); what can be judged without a value is judged here.
std::string readConstraints(const sb_option& o, OptionSpec& spec) {
    OptionConstraints& c = spec.constraints;
    const bool textual = spec.type == SB_OPT_STRING || spec.type == SB_OPT_STRING_LIST;
    const bool ordered = spec.type == SB_OPT_INT || spec.type == SB_OPT_DOUBLE || spec.type == SB_OPT_DURATION ||
                         spec.type == SB_OPT_STRING_LIST;
    c.allowed = splitOptionList(o.allowed, '|');
    if (o.allowed && c.allowed.empty()) return "allowed is empty; expected \"a|b\"";
    if (!c.allowed.empty() && !textual) return "allowed values apply to string options only";
    if (o.pattern && *o.pattern) {
        if (!textual) return "a pattern applies to string options only";
        RE2 re(o.pattern, RE2::Quiet);
        if (!re.ok()) return "pattern '" + std::string(o.pattern) + "' is not valid RE2: " + re.error();
        c.pattern = o.pattern;
    }
    if (o.min_value) c.min = o.min_value;
    if (o.max_value) c.max = o.max_value;
    if ((c.min || c.max) && !ordered) return "min/max apply to int, double, duration and list options only";
    if (o.format > SB_FORMAT_EMAIL) return "unknown format " + std::to_string(o.format);
    c.format = static_cast<sb_option_format>(o.format);
    if (c.format != SB_FORMAT_ANY && !textual) return "a format applies to string options only";
    c.requires_ = splitOptionList(o.requires_options, ',');
    if (o.one_of_group) {
        if (!validName(o.one_of_group, true)) return "one_of_group must be [a-z0-9_-]+";
        c.group = o.one_of_group;
        if (spec.required) return "a required option cannot be in a one_of_group (it is always set)";
    }
    return "";
}

std::string readMetrics(const sb_plugin_descriptor& d, std::vector<PluginMetric>& out) {
    if (d.metric_count > 0 && d.metrics == nullptr) return "metric_count is " + std::to_string(d.metric_count) + " but metrics is NULL";
    if (d.metric_count > 1000) return "metric_count " + std::to_string(d.metric_count) + " is implausible";
    for (size_t i = 0; i < d.metric_count; ++i) {
        const sb_metric& m = *SB_ARRAY_AT(sb_metric, d.metrics, i);
        const std::string at = "metric #" + std::to_string(i);
        if (m.struct_size < sizeof(sb_metric)) return at + ": struct_size is smaller than sb_metric";
        if (!validName(m.name, false)) return at + ": name must be non-empty [a-z0-9_]";
        const std::string type = m.type ? m.type : "";
        if (type != "counter" && type != "gauge")
            return at + " '" + m.name + "': type must be \"counter\" or \"gauge\", found '" + type + "'";
        out.push_back({m.name, type, m.help ? m.help : ""});
    }
    return "";
}

std::string readReaches(const char* text, std::optional<std::vector<std::string>>& out) {
    if (text == nullptr) return "";
    std::vector<std::string> types = splitOptionList(text, ',');
    if (types.empty()) return "reaches is empty; expected e.g. \"phone\" or \"email,external:crm\"";
    for (const auto& t : types) {
        const bool ok = t == "phone" || t == "email" || t == "external" ||
                        (t.rfind("external:", 0) == 0 && t.size() > 9 && validName(t.c_str() + 9, true));
        if (!ok) return "reaches: '" + t + "' is not phone, email, external or external:<system>";
    }
    out = std::move(types);
    return "";
}

// Everything a 1.4 descriptor adds; the fields are absent from older ones.
std::string readDescriptor14(const sb_plugin_descriptor* descriptor, std::vector<WebhookRoute>& routes,
                             std::vector<PluginMetric>& metrics, std::optional<std::vector<std::string>>& reaches) {
    if (!SB_HAS_FIELD(descriptor, sb_plugin_descriptor, reaches)) return "";
    const sb_plugin_descriptor& d = *descriptor;
    if (std::string err = readWebhookRoutes(d.webhook_routes, d.webhook_route_count, routes); !err.empty()) return err;
    if (!routes.empty() && d.handle_webhook == nullptr) return "webhook routes are declared but handle_webhook is NULL";
    if (std::string err = readMetrics(d, metrics); !err.empty()) return err;
    return readReaches(d.reaches, reaches);
}

}  // namespace

LoadedPlugin::LoadedPlugin(std::shared_ptr<boost::dll::shared_library> library,
                           const sb_plugin_descriptor* descriptor, std::string file)
    : library_(std::move(library)), descriptor_(descriptor), file_(std::move(file)) {
    name_ = descriptor_->name;
    version_ = descriptor_->version ? descriptor_->version : "";
    description_ = descriptor_->description ? descriptor_->description : "";
    kind_ = descriptor_->kind;
    abiMajor_ = descriptor_->abi_major;
    abiMinor_ = descriptor_->abi_minor;
    descriptorSize_ = descriptor_->struct_size;
    readSchema(*descriptor_, schema_);
    readDescriptor14(descriptor_, routes_, metrics_, reaches_);
    if (SB_HAS_FIELD(descriptor_, sb_plugin_descriptor, validate)) validate_ = descriptor_->validate;
}

LoadedPlugin::~LoadedPlugin() = default;

std::string LoadedPlugin::metricName(const std::string& name) const {
    std::string plugin = name_;
    for (char& c : plugin)
        if (c == '-') c = '_';
    return "switchboard_plugin_" + plugin + "_" + name;
}

std::string LoadedPlugin::kindName() const {
    if ((kind_ & SB_KIND_SOURCE) && (kind_ & SB_KIND_SINK)) return "source+sink";
    return (kind_ & SB_KIND_SINK) ? "sink" : "source";
}

LoadOutcome loadPlugin(const std::string& path) {
    LoadOutcome out;
    auto library = std::make_shared<boost::dll::shared_library>();
    boost::dll::fs::error_code ec;
    // RTLD_LOCAL: the plugin's symbols never satisfy another plugin's references.
    library->load(path, boost::dll::load_mode::rtld_local | boost::dll::load_mode::rtld_now, ec);
    if (ec) {
        // Boost.DLL clears dlerror(); ask the dynamic loader once more for the reason.
        std::string why = ec.message();
        if (void* h = dlopen(path.c_str(), RTLD_LAZY | RTLD_LOCAL)) {
            dlclose(h);
        } else if (const char* e = dlerror()) {
            why = e;
        }
        out.error = refuse(path, "not a loadable shared library (" + why +
                                     "); expected a Switchboard connector built with switchboard_add_plugin — "
                                     "remove the file from the plugin directory or rebuild it");
        return out;
    }
    if (!library->has(SB_ENTRY_SYMBOL)) {
        out.error = refuse(path, std::string("no entry symbol '") + SB_ENTRY_SYMBOL +
                                     "'; expected a Switchboard connector exporting it (use SWITCHBOARD_PLUGIN(...) "
                                     "or export it from C) — is this a Switchboard plugin?");
        return out;
    }
    const sb_plugin_descriptor* d = nullptr;
    try {
        auto entry = library->get<const sb_plugin_descriptor*()>(SB_ENTRY_SYMBOL);
        d = entry();
    } catch (const std::exception& e) {
        out.error = refuse(path, std::string("entry point failed: ") + e.what());
        return out;
    }
    if (d == nullptr) {
        out.error = refuse(path, std::string(SB_ENTRY_SYMBOL) + "() returned NULL; expected a descriptor — " +
                                     "the plugin is broken, contact its author");
        return out;
    }
    // struct_size and abi_major are the stable prefix of every ABI version: read them first.
    if (d->abi_major != SB_ABI_VERSION_MAJOR) {
        out.error = refuse(path, "built for plugin ABI " + std::to_string(d->abi_major) + "." +
                                     std::to_string(d->abi_minor) + ", this host serves ABI " +
                                     std::to_string(SB_ABI_VERSION_MAJOR) + ".x; " + kRebuild);
        return out;
    }
    if (d->struct_size < SB_PLUGIN_DESCRIPTOR_SIZE_1_0) {
        out.error = refuse(path, "descriptor struct_size is " + std::to_string(d->struct_size) +
                                     " bytes, smaller than the " + std::to_string(SB_PLUGIN_DESCRIPTOR_SIZE_1_0) +
                                     " bytes of ABI 1.0; the descriptor is corrupt — " + kRebuild);
        return out;
    }
    if (!validName(d->name, true)) {
        out.error = refuse(path, "descriptor name must be non-empty [a-z0-9_-], found '" +
                                     std::string(d->name ? d->name : "(null)") + "'");
        return out;
    }
    const std::string who = path + " ('" + d->name + "')";
    if ((d->kind & (SB_KIND_SOURCE | SB_KIND_SINK)) == 0 || (d->kind & ~(SB_KIND_SOURCE | SB_KIND_SINK)) != 0) {
        out.error = refuse(who, "kind is " + std::to_string(d->kind) +
                                    "; expected SB_KIND_SOURCE, SB_KIND_SINK or both");
        return out;
    }
    const std::pair<const void*, const char*> required[] = {
        {reinterpret_cast<const void*>(d->create), "create"},
        {reinterpret_cast<const void*>(d->start), "start"},
        {reinterpret_cast<const void*>(d->stop), "stop"},
        {reinterpret_cast<const void*>(d->destroy), "destroy"},
    };
    for (const auto& [fn, name] : required) {
        if (fn == nullptr) {
            out.error = refuse(who, std::string("required callback '") + name + "' is NULL; fix the plugin");
            return out;
        }
    }
    if ((d->kind & SB_KIND_SINK) && d->send == nullptr) {
        out.error = refuse(who, "kind includes sink but callback 'send' is NULL; fix the plugin");
        return out;
    }
    OptionSchema schema;
    if (std::string err = readSchema(*d, schema); !err.empty()) {
        out.error = refuse(who, "invalid option schema: " + err);
        return out;
    }
    {
        std::vector<WebhookRoute> routes;
        std::vector<PluginMetric> metrics;
        std::optional<std::vector<std::string>> reaches;
        if (std::string err = readDescriptor14(d, routes, metrics, reaches); !err.empty()) {
            out.error = refuse(who, "invalid descriptor: " + err);
            return out;
        }
    }
    if (d->abi_minor > SB_ABI_VERSION_MINOR || d->struct_size > sizeof(sb_plugin_descriptor)) {
        out.warning = "plugin " + who + " was built against SDK " + std::to_string(d->abi_major) + "." +
                      std::to_string(d->abi_minor) + ", newer than this host's " +
                      std::to_string(SB_ABI_VERSION_MAJOR) + "." + std::to_string(SB_ABI_VERSION_MINOR) +
                      "; features added after " + std::to_string(SB_ABI_VERSION_MAJOR) + "." +
                      std::to_string(SB_ABI_VERSION_MINOR) + " are not used (upgrade the host to use them)";
    }
    out.plugin = std::make_shared<LoadedPlugin>(std::move(library), d, path);
    return out;
}

}  // namespace switchboard::host
