#include "cli/reference.h"

#include <cstdint>
#include <cstdio>
#include <sstream>
#include <vector>

namespace lastgood::cli {

namespace {

// The tree as the three outputs need it: a verb's path ("token create"), its words, flags.
struct Flag {
  std::vector<std::string> names;  // "-f", "--file"
  std::string value;               // "TEXT", "" for a flag without a value
  std::string description;
  std::string env;  // its environment variable, or ""
};

struct Verb {
  std::string path;
  std::string description;
  std::vector<std::string> arguments;  // positional names, in order
  std::vector<Flag> flags;
  std::vector<Verb> children;
};

bool Visible(const CLI::App* app) { return !app->get_group().empty(); }

std::vector<Flag> FlagsOf(const CLI::App& app) {
  std::vector<Flag> out;
  for (const CLI::Option* o : app.get_options()) {
    if (o->get_group().empty() || o->get_positional() || o == app.get_help_ptr()) continue;
    Flag f;
    for (const auto& s : o->get_snames()) f.names.push_back("-" + s);
    for (const auto& l : o->get_lnames()) f.names.push_back("--" + l);
    if (o->get_items_expected_max() > 0) {
      f.value = o->get_type_name();
      // CLI11 adds its validators' descriptions ("TEXT:{json,text}"): keep the value's kind.
      if (auto colon = f.value.find(':'); colon != std::string::npos) f.value.resize(colon);
      if (f.value.empty()) f.value = "VALUE";
    }
    f.description = o->get_description();
    f.env = o->get_envname();
    out.push_back(std::move(f));
  }
  return out;
}

Verb VerbOf(const CLI::App& app, const std::string& prefix) {
  Verb v;
  v.path = prefix.empty() ? app.get_name() : prefix + " " + app.get_name();
  v.description = app.get_description();
  for (const CLI::Option* o : app.get_options())
    if (o->get_positional() && !o->get_group().empty()) v.arguments.push_back(o->get_name(true));
  v.flags = FlagsOf(app);
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App* a) { return Visible(a); }))
    v.children.push_back(VerbOf(*sub, v.path));
  return v;
}

std::vector<Verb> VerbsOf(const CLI::App& root) {
  std::vector<Verb> out;
  for (const CLI::App* sub : root.get_subcommands([](const CLI::App* a) { return Visible(a); }))
    out.push_back(VerbOf(*sub, ""));
  return out;
}

// roff: a backslash, and a leading '.' or '\'' that would start a request, must be escaped;
// '-' is written "\-" so that it is a hyphen-minus a reader can copy into a shell; a
// character beyond ASCII ("—", "≤") is written by its code point, "\[u2014]", which groff
// renders on any terminal (a raw UTF-8 byte is an invalid input character to troff).
std::string Roff(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    auto byte = static_cast<unsigned char>(c);
    if (byte >= 0xC0) {
      int extra = byte >= 0xF0 ? 3 : byte >= 0xE0 ? 2 : 1;
      uint32_t cp = byte & (0x3F >> extra);
      for (int k = 0; k < extra && i + 1 < text.size(); ++k)
        cp = (cp << 6) | (static_cast<unsigned char>(text[++i]) & 0x3F);
      char code[16];
      std::snprintf(code, sizeof code, "\\[u%04X]", static_cast<unsigned>(cp));
      out += code;
    } else if (byte >= 0x80) {
      continue;  // a stray continuation byte: not text
    } else if (c == '\\') {
      out += "\\e";
    } else if (c == '-') {
      out += "\\-";
    } else if ((c == '.' || c == '\'') && (i == 0 || text[i - 1] == '\n')) {
      out += "\\&";
      out += c;
    } else {
      out += c;
    }
  }
  return out;
}

void ManFlags(std::ostringstream& out, const std::vector<Flag>& flags) {
  for (const Flag& f : flags) {
    out << ".TP\n";
    for (size_t i = 0; i < f.names.size(); ++i)
      out << (i ? ", " : "") << "\\fB" << Roff(f.names[i]) << "\\fR";
    if (!f.value.empty()) out << " \\fI" << Roff(f.value) << "\\fR";
    out << "\n" << Roff(f.description);
    if (!f.env.empty()) out << " (environment: \\fB" << Roff(f.env) << "\\fR)";
    out << "\n";
  }
}

void ManVerb(std::ostringstream& out, const Verb& v) {
  out << ".SS \"lastgood " << Roff(v.path) << "\"\n";
  if (!v.arguments.empty() || !v.flags.empty() || v.children.empty()) {
    out << ".B lastgood " << Roff(v.path) << "\n";
    for (const auto& a : v.arguments) out << "\\fI" << Roff(a) << "\\fR\n";
    if (!v.flags.empty()) out << "[\\fIflags\\fR]\n";
    out << ".br\n";
  }
  out << Roff(v.description) << "\n";
  ManFlags(out, v.flags);
  for (const Verb& c : v.children) ManVerb(out, c);
}

// Every flag name of a verb, the global ones included (they are accepted after the verb).
std::string FlagWords(const std::vector<Flag>& flags, const std::vector<Flag>& globals) {
  std::string words;
  for (const auto* list : {&flags, &globals})
    for (const Flag& f : *list)
      for (const auto& n : f.names) words += (words.empty() ? "" : " ") + n;
  return words;
}

std::string ValueFlagWords(const std::vector<Flag>& flags, const std::vector<Flag>& globals) {
  std::string words;
  for (const auto* list : {&flags, &globals})
    for (const Flag& f : *list)
      if (!f.value.empty())
        for (const auto& n : f.names) words += (words.empty() ? "" : "|") + n;
  return words;
}

std::string ChildWords(const Verb& v) {
  std::string words;
  for (const Verb& c : v.children) {
    std::string last = c.path.substr(c.path.rfind(' ') + 1);
    words += (words.empty() ? "" : " ") + last;
  }
  return words;
}

// zsh's _arguments and _describe take "name[description]" and "name:description": brackets,
// colons and quotes in a description must not end the spec.
std::string ZshText(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '[' || c == ']' || c == ':' || c == '\\') out += '\\';
    if (c == '\'') {
      out += "'\\''";
      continue;
    }
    out += c;
  }
  return out;
}

// One `_arguments` spec per flag name, each line continued with a backslash.
void ZshFlags(std::ostringstream& out, const std::vector<Flag>& flags) {
  for (const Flag& f : flags)
    for (const auto& n : f.names) {
      out << "      '" << n << "[" << ZshText(f.description) << "]";
      if (!f.value.empty()) out << ":" << ZshText(f.value) << ":_files";
      out << "' \\\n";
    }
}

// "lastgood: a release controller — …" → "a release controller — …"
std::string Summary(const CLI::App& root) {
  const std::string& d = root.get_description();
  auto colon = d.find(": ");
  return colon == std::string::npos ? d : d.substr(colon + 2);
}

}  // namespace

std::string ManPage(const CLI::App& root, const std::string& version) {
  std::ostringstream out;
  std::string source = version.empty() ? "lastgood" : "lastgood " + version;
  out << ".TH LASTGOOD 1 \"\" \"" << Roff(source) << "\" \"User Commands\"\n"
      << ".SH NAME\nlastgood \\- " << Roff(Summary(root)) << "\n"
      << ".SH SYNOPSIS\n.B lastgood\n\\fIVERB\\fR [\\fIARGUMENTS\\fR] [\\fIflags\\fR]\n"
      << ".SH DESCRIPTION\n"
      << "lastgood deploys versioned releases of services, keeps every deployment on record, "
         "verifies each release against its health checks and live traffic, and brings a "
         "service back to its last known good version at one command, or by itself when a "
         "release fails. \\fBlastgood serve\\fR runs the controller (and starts the router, "
         "the data plane); every other verb is a client of its API, over the unix socket in "
         "the home or over TCP with a token.\n"
      << ".SH GLOBAL FLAGS\nAccepted before or after the verb.\n";
  ManFlags(out, FlagsOf(root));
  out << ".SH VERBS\n";
  for (const Verb& v : VerbsOf(root)) ManVerb(out, v);
  out << ".SH EXIT STATUS\n"
      << ".TP\n0\nsucceeded\n"
      << ".TP\n1\nthe deployment failed (whether or not it was rolled back)\n"
      << ".TP\n2\ninvalid input or usage; nothing changed\n"
      << ".TP\n3\nconflict: another deployment is running, or the state does not allow it\n"
      << ".TP\n4\nnot found\n"
      << ".TP\n5\ncannot reach or authenticate to the controller, or it is unavailable\n"
      << ".SH ENVIRONMENT\n"
      << ".TP\n\\fBLASTGOOD_HOME\\fR\nthe home: store, artifacts, logs and sockets (default "
         "\\fB$XDG_STATE_HOME/lastgood\\fR, else \\fB~/.local/state/lastgood\\fR; a client "
         "whose home has no controller uses the packaged one in \\fB/var/lib/lastgood\\fR)\n"
      << ".TP\n\\fBLASTGOOD_SERVER\\fR\na controller over TCP, \\fBhttps://HOST:PORT\\fR\n"
      << ".TP\n\\fBLASTGOOD_TOKEN\\fR\nthe bearer token for \\fBLASTGOOD_SERVER\\fR (never a "
         "flag: argv shows in \\fBps\\fR)\n"
      << ".TP\n\\fBLASTGOOD_TIMEOUT\\fR\nhow long the controller may take to answer, as "
         "\\fB--timeout\\fR (default 60s)\n"
      << ".SH FILES\n"
      << ".TP\n\\fI$LASTGOOD_HOME/api.sock\\fR\nthe controller's API (mode 0600, or 0660 for "
         "the group of \\fBserve --socket-group\\fR, whose members are admins: the "
         "packaged unit's \\fBlastgood\\fR group)\n"
      << ".TP\n\\fI$LASTGOOD_HOME/lastgood.db\\fR\nthe store (SQLite): versions, deployment "
         "records, tokens (hashed), audit\n"
      << ".TP\n\\fI/var/lib/lastgood\\fR\nthe home of the packaged controller "
         "(\\fBlastgood.service\\fR)\n"
      << ".SH SEE ALSO\n"
      << "The manual in \\fI/usr/share/doc/lastgood\\fR: cli.md, manifest.md, behaviour.md, "
         "security.md.\n";
  return out.str();
}

std::string BashCompletion(const CLI::App& root) {
  std::vector<Flag> globals = FlagsOf(root);
  std::vector<Verb> verbs = VerbsOf(root);
  std::string top;
  for (const Verb& v : verbs) top += (top.empty() ? "" : " ") + v.path;
  std::ostringstream out;
  out << "# bash completion for lastgood (generated by `lastgood completion bash`)\n"
      << "_lastgood() {\n"
      << "  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
      << "  local verb=\"\" sub=\"\" i w\n"
      << "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
      << "    w=${COMP_WORDS[i]}\n"
      << "    [[ $w == -* ]] && continue\n"
      << "    if [[ -z $verb ]]; then verb=$w; elif [[ -z $sub ]]; then sub=$w; fi\n"
      << "  done\n"
      << "  local words=\"\" values=\"\"\n"
      << "  case \"$verb\" in\n"
      << "    \"\") words=\"" << top << " " << FlagWords({}, globals) << "\"; values=\""
      << ValueFlagWords({}, globals) << "\" ;;\n";
  for (const Verb& v : verbs) {
    out << "    " << v.path << ")\n";
    if (!v.children.empty()) {
      out << "      case \"$sub\" in\n";
      for (const Verb& c : v.children) {
        std::string last = c.path.substr(c.path.rfind(' ') + 1);
        out << "        " << last << ") words=\"" << FlagWords(c.flags, globals) << "\"; values=\""
            << ValueFlagWords(c.flags, globals) << "\" ;;\n";
      }
      out << "        *) words=\"" << ChildWords(v) << "\" ;;\n"
          << "      esac ;;\n";
    } else {
      out << "      words=\"" << FlagWords(v.flags, globals) << "\"; values=\""
          << ValueFlagWords(v.flags, globals) << "\" ;;\n";
    }
  }
  out << "  esac\n"
      << "  if [[ -n $values && \"|$values|\" == *\"|$prev|\"* ]]; then\n"
      << "    COMPREPLY=($(compgen -f -- \"$cur\"))\n"
      << "    return\n"
      << "  fi\n"
      << "  COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
      << "}\n"
      << "complete -o default -F _lastgood lastgood\n";
  return out.str();
}

std::string ZshCompletion(const CLI::App& root) {
  std::vector<Flag> globals = FlagsOf(root);
  std::vector<Verb> verbs = VerbsOf(root);
  std::ostringstream out;
  out << "#compdef lastgood\n"
      << "# zsh completion for lastgood (generated by `lastgood completion zsh`)\n"
      << "_lastgood() {\n"
      << "  local -a verbs\n"
      << "  verbs=(\n";
  for (const Verb& v : verbs)
    out << "    '" << ZshText(v.path) << ":" << ZshText(v.description) << "'\n";
  out << "  )\n"
      << "  if (( CURRENT == 2 )); then\n"
      << "    _describe 'verb' verbs\n"
      << "    return\n"
      << "  fi\n"
      << "  case $words[2] in\n";
  for (const Verb& v : verbs) {
    out << "  " << v.path << ")\n";
    if (!v.children.empty()) {
      out << "    if (( CURRENT == 3 )); then\n"
          << "      local -a subs\n"
          << "      subs=(\n";
      for (const Verb& c : v.children) {
        std::string last = c.path.substr(c.path.rfind(' ') + 1);
        out << "        '" << ZshText(last) << ":" << ZshText(c.description) << "'\n";
      }
      out << "      )\n"
          << "      _describe 'verb' subs\n"
          << "      return\n"
          << "    fi\n"
          << "    case $words[3] in\n";
      for (const Verb& c : v.children) {
        std::string last = c.path.substr(c.path.rfind(' ') + 1);
        out << "    " << last << ")\n      _arguments -s \\\n";
        ZshFlags(out, c.flags);
        ZshFlags(out, globals);
        out << "      '*:argument:_files' ;;\n";
      }
      out << "    esac ;;\n";
    } else {
      out << "    _arguments -s \\\n";
      ZshFlags(out, v.flags);
      ZshFlags(out, globals);
      out << "      '*:argument:_files' ;;\n";
    }
  }
  out << "  esac\n"
      << "}\n"
      << "_lastgood \"$@\"\n";
  return out.str();
}

}  // namespace lastgood::cli
