# fish completion for llm-providers.  Installed to
# share/fish/vendor_completions.d.
#
# Provider names and tags come from the configuration files; their text is
# only offered as completions, never evaluated.
#
# __llm_config_files and __llm_config_arg are the same as in the llm-chat
# completion, which defines them too: keep the two copies identical.

# The llm.ini files that exist, in the order llm-chat reads them.
# $argv[1] is the --config FILE given on the command line, if any.
function __llm_config_files
    set -l files
    if set -q LLM_DEFAULT_CONFIG
        set files $LLM_DEFAULT_CONFIG
    else
        set files /usr/local/share/llm/llm.ini /usr/share/llm/llm.ini
        # the PREFIX that llm-chat was installed to
        set -l bin (command -v llm-chat)
        and set -a files (string replace -r '/[^/]*/[^/]*$' '' -- $bin)/share/llm/llm.ini
    end
    if set -q XDG_CONFIG_HOME[1]; and test -n "$XDG_CONFIG_HOME"
        set -a files $XDG_CONFIG_HOME/llm/llm.ini
    else
        set -a files $HOME/.config/llm/llm.ini
    end
    if test -n "$argv[1]"
        set -a files $argv[1]
    else if test -n "$LLM_CONFIG"
        set -a files $LLM_CONFIG
    end
    for f in $files
        test -f $f -a -r $f; and echo $f
    end
end

# The --config FILE given earlier on the command line, if any.
function __llm_config_arg
    set -l tokens (commandline -opc)
    set -l config
    for i in (seq (count $tokens))
        switch $tokens[$i]
            case --config
                set config $tokens[(math $i + 1)]
            case '--config=*'
                set config (string replace -- --config= '' $tokens[$i])
        end
    end
    string replace -r '^~/' "$HOME/" -- $config
end

# Provider names, with their type, but not those already on the command
# line.
function __llm_providers_names
    set -l files (__llm_config_files (__llm_config_arg))
    test (count $files) -gt 0; or return
    set -l given (commandline -opc)
    awk '
    /^[ \t]*\[/ {
        n = ""
        s = $0
        if (s !~ /^[ \t]*\[provider\.[^]]+\]/)
            next
        sub(/^[ \t]*\[provider\./, "", s)
        sub(/\].*/, "", s)
        if (s !~ /^[-A-Za-z0-9._:@+]+$/)
            next
        n = s
        if (!seen[n]++)
            order[++count] = n
        next
    }
    n != "" && /^[ \t]*type[ \t]*=/ {
        v = $0
        sub(/^[ \t]*type[ \t]*=[ \t]*/, "", v)
        sub(/[ \t;].*/, "", v)
        type[n] = v
    }
    END {
        for (i = 1; i <= count; i++)
            print order[i] "\t" (type[order[i]] != "" ? type[order[i]] : "provider")
    }' $files 2>/dev/null | while read -l -d \t name desc
        contains -- $name $given; or printf '%s\t%s\n' $name $desc
    end
end

# The tags of the [model.NAME] sections.
function __llm_providers_tags
    set -l files (__llm_config_files (__llm_config_arg))
    test (count $files) -gt 0; or return
    awk '
    /^[ \t]*\[/ {
        model = $0 ~ /^[ \t]*\[model\.[^]]+\]/
        next
    }
    model && /^[ \t]*tags[ \t]*=/ {
        v = $0
        sub(/^[ \t]*tags[ \t]*=/, "", v)
        sub(/[ \t];.*/, "", v)
        n = split(v, t, ",")
        for (i = 1; i <= n; i++) {
            gsub(/^[ \t]+|[ \t\r]+$/, "", t[i])
            if (t[i] ~ /^[-A-Za-z0-9._:@+]+$/ && !seen[t[i]]++)
                print t[i] "\ttag"
        }
    }' $files 2>/dev/null
end

complete -c llm-providers -f -a '(__llm_providers_names)'
complete -c llm-providers -s h -l help -d 'Print help and exit'
complete -c llm-providers -s q -l quiet -d 'Print no warnings'
complete -c llm-providers -s V -l version -d 'Print the version and exit'
complete -c llm-providers -s v -l verbose -d 'Debug output on stderr (-vv: HTTP details)'
complete -c llm-providers -l check -n 'not __fish_seen_argument -l models -l tag' -d 'Probe each provider live; non-zero exit if one is down'
complete -c llm-providers -l config -r -F -d 'Read FILE as the last configuration layer'
complete -c llm-providers -l discover -n 'not __fish_seen_argument -l models -l tag' -d 'List the served models that llm.ini lacks'
complete -c llm-providers -l json -d 'Print JSON'
complete -c llm-providers -l models -n 'not __fish_seen_argument -l check -l discover' -d 'List the configured models and prices'
complete -c llm-providers -l tag -x -n 'not __fish_seen_argument -l check -l discover' -a '(__llm_providers_tags)' -d 'Only the models with this tag'
complete -c llm-providers -l timeout -x -d 'Time limit of each probe, in seconds (default 10)'
