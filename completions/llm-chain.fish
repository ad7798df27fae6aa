# fish completion for llm-chain.  Installed to
# share/fish/vendor_completions.d.
#
# Model names come from the configuration files; their text is only offered
# as completions, never evaluated.  __llm_config_files, __llm_config_arg and
# __llm_models are the same as in the llm-chat completion: keep the copies
# identical.

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

# Model aliases, group names and PROVIDER/ prefixes, with a description.
function __llm_models
    set -l files (__llm_config_files (__llm_config_arg))
    test (count $files) -gt 0; or return
    awk '
    /^[ \t]*\[[^]]+\]/ {
        s = $0
        sub(/^[ \t]*\[/, "", s)
        sub(/\].*/, "", s)
        if (s ~ /^model\./)
            t = "model"
        else if (s ~ /^group\./)
            t = "group"
        else if (s ~ /^provider\./)
            t = "provider"
        else
            next
        n = substr(s, length(t) + 2)
        if (n !~ /^[-A-Za-z0-9._:@+]+$/)
            next
        if (t == "provider")
            n = n "/"
        if (!seen[n]++)
            print n "\t" t
    }' $files 2>/dev/null
end

complete -c llm-chain -f
complete -c llm-chain -s f -l file -r -F -d 'Read the steps from a chain file'
complete -c llm-chain -s h -l help -d 'Print help and exit'
complete -c llm-chain -s m -l model -x -a '(__llm_models)' -d 'Add a step: model alias, group or PROVIDER/MODEL'
complete -c llm-chain -s o -l option -x -d 'Extra request field KEY=VALUE for every step'
complete -c llm-chain -s q -l quiet -d 'Print no warnings'
complete -c llm-chain -s s -l system -x -d 'System prompt of the step before (before any -m: the default)'
complete -c llm-chain -s t -l temperature -x -d 'Sampling temperature of every step'
complete -c llm-chain -s V -l version -d 'Print the version and exit'
complete -c llm-chain -s v -l verbose -d 'Debug output on stderr (-vv: HTTP details)'
complete -c llm-chain -l atomic -d "Show each step's answer only once it is complete"
complete -c llm-chain -l cache -d 'Answer from the cache when it can'
complete -c llm-chain -l carry-input -d 'Give later steps the original input too'
complete -c llm-chain -l check -d 'Check the steps and models, send nothing'
complete -c llm-chain -l config -r -F -d 'Read FILE as the last configuration layer'
complete -c llm-chain -l connect-timeout -x -d 'Time limit to connect, in seconds'
complete -c llm-chain -l first-byte-timeout -x -d 'Time limit to the first byte, in seconds'
complete -c llm-chain -l idle-timeout -x -d 'Time limit between two chunks, in seconds'
complete -c llm-chain -l json -d 'Print one JSON object with every step'
complete -c llm-chain -l max-tokens -x -d 'Most tokens each step generates'
complete -c llm-chain -l no-cache -d 'Neither read nor fill the cache'
complete -c llm-chain -l no-log -d 'Do not write the requests to the log'
complete -c llm-chain -l no-stream -d 'Wait for whole answers'
complete -c llm-chain -l no-wait -d 'Fail when a rate limit says wait'
complete -c llm-chain -l retries -x -d 'Retries on connection failures, 408, 409, 429, 5xx'
complete -c llm-chain -l show-steps -d "Show each step's answer on stderr"
complete -c llm-chain -l stop -x -d 'Stop sequence for every step (repeatable)'
complete -c llm-chain -l system-file -r -F -d 'Read the default system prompt from FILE'
complete -c llm-chain -l timeout -x -d 'Time limit for each request, in seconds'
complete -c llm-chain -l top-p -x -d 'Nucleus sampling for every step'
