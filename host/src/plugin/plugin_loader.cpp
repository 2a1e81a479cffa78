#include "plugin/plugin_loader.h"

#include <boost/dll/shared_library.hpp>

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

// Checks the option table and copies it; returns an error text or "".
std::string readSchema(const sb_plugin_descriptor& d, OptionSchema& out) {
    if (d.option_count > 0 && d.options == nullptr) return "option_count is " + std::to_string(d.option_count) +
                                                          " but options is NULL";
    if (d.option_count > 1000) return "option_count " + std::to_string(d.option_count) + " is implausible";
    for (size_t i = 0; i < d.option_count; ++i) {
        const sb_option& o = *SB_ARRAY_AT(sb_option, d.options, i);
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
        out.push_back(std::move(spec));
    }
    return "";
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
}

LoadedPlugin::~LoadedPlugin() = default;

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
