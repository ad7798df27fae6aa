# bash completion for llm-chain                             -*- shell-script -*-
#
# Installed as share/bash-completion/completions/llm-chain; or source it.
#
# Model names come from the configuration files.  Their text is only ever
# compared with the word being completed: never passed to compgen -W, eval
# or the like, which would expand it.
#
# _llm_config_files, _llm_models and _llm_filter are the same as in the
# llm-chat completion, which defines them too: keep the copies identical.

# Print the llm.ini files that exist, in the order llm-chat reads them.
# $1 is the --config FILE given on the command line, if any.
_llm_config_files()
{
	local f dir files=()

	if [[ -n ${LLM_DEFAULT_CONFIG+set} ]]; then
		files+=("$LLM_DEFAULT_CONFIG")
	else
		files+=(/usr/local/share/llm/llm.ini /usr/share/llm/llm.ini)
		# the PREFIX that llm-chat was installed to
		if f=$(type -P llm-chat); then
			dir=${f%/*}
			files+=("${dir%/*}/share/llm/llm.ini")
		fi
	fi
	files+=("${XDG_CONFIG_HOME:-$HOME/.config}/llm/llm.ini")
	if [[ -n $1 ]]; then
		files+=("$1")
	elif [[ -n ${LLM_CONFIG-} ]]; then
		files+=("$LLM_CONFIG")
	fi
	for f in "${files[@]}"; do
		[[ -f $f && -r $f ]] && printf '%s\n' "$f"
	done
}

# Print model aliases, group names and "PROVIDER/" prefixes, one a line.
_llm_models()
{
	local files=()

	mapfile -t files < <(_llm_config_files "$1")
	((${#files[@]})) || return 0
	awk '
	/^[ \t]*\[[^]]+\]/ {
		s = $0
		sub(/^[ \t]*\[/, "", s)
		sub(/\].*/, "", s)
		if (s ~ /^(model|group)\./)
			n = substr(s, 7)
		else if (s ~ /^provider\./)
			n = substr(s, 10)
		else
			next
		if (n !~ /^[-A-Za-z0-9._:@+]+$/)
			next
		if (s ~ /^provider/)
			n = n "/"
		if (!seen[n]++)
			print n
	}' "${files[@]}" 2>/dev/null
}

# Set COMPREPLY to the lines of stdin, quoted for the shell, that begin
# with $1; each prefixed with $2.
_llm_filter()
{
	local line

	COMPREPLY=()
	while IFS= read -r line; do
		printf -v line '%q' "$line"
		[[ $line == "$1"* ]] && COMPREPLY+=("$2$line")
	done
}

_llm_chain()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev='' pfx='' opt config='' i
	local opts='-f --file -h --help -m --model -o --option -q --quiet
	    -s --system -t --temperature -V --version -v --verbose --atomic
	    --cache --carry-input --check --config --connect-timeout
	    --first-byte-timeout --idle-timeout --json --max-tokens --no-cache
	    --no-log --no-stream --no-wait --retries --show-steps --stop
	    --system-file --timeout --top-p --'

	COMPREPLY=()
	((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}

	# --opt=value, which bash splits into "--opt" "=" "value"
	if [[ $cur == = ]]; then
		prev=${COMP_WORDS[COMP_CWORD - 1]}
		cur=
	elif [[ $prev == = ]] && ((COMP_CWORD > 1)); then
		prev=${COMP_WORDS[COMP_CWORD - 2]}
	elif [[ $cur == --*=* ]]; then
		# "=" not in COMP_WORDBREAKS: the whole word is replaced
		prev=${cur%%=*}
		pfx=$prev=
		cur=${cur#*=}
	fi

	# an earlier --config FILE replaces $LLM_CONFIG; no word after "--"
	# is an option
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		--)
			return 0
			;;
		--config)
			if [[ ${COMP_WORDS[i + 1]} == = ]]; then
				config=${COMP_WORDS[i + 2]}
			else
				config=${COMP_WORDS[i + 1]}
			fi
			;;
		--config=*)
			config=${COMP_WORDS[i]#--config=}
			;;
		esac
	done
	# a literal "~/" as typed (nothing is expanded here)
	# shellcheck disable=SC2088
	[[ $config == "~/"* ]] && config=$HOME/${config#"~/"}

	case $prev in
	-m | --model)
		_llm_filter "$cur" "$pfx" < <(_llm_models "$config")
		if ((${#COMPREPLY[@]} == 1)) && [[ ${COMPREPLY[0]} == */ ]]; then
			compopt -o nospace 2>/dev/null
		fi
		return 0
		;;
	-f | --file | --config | --system-file)
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		if [[ -n $pfx ]]; then
			for i in "${!COMPREPLY[@]}"; do
				COMPREPLY[i]=$pfx${COMPREPLY[i]}
			done
		fi
		return 0
		;;
	-o | --option | -s | --system | -t | --temperature | --max-tokens | \
	    --retries | --stop | --timeout | --top-p | --connect-timeout | \
	    --first-byte-timeout | --idle-timeout)
		return 0
		;;
	esac

	if [[ $cur == -* ]]; then
		for opt in $opts; do
			[[ $opt == "$cur"* ]] && COMPREPLY+=("$opt")
		done
	fi
	return 0
}

complete -F _llm_chain llm-chain
