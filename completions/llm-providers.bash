# bash completion for llm-providers                         -*- shell-script -*-
#
# Installed as share/bash-completion/completions/llm-providers; or source it.
#
# Provider names and tags come from the configuration files.  Their text is
# only ever compared with the word being completed: never passed to
# compgen -W, eval or the like, which would expand it.
#
# _llm_config_files and _llm_filter are the same as in the llm-chat
# completion, which defines them too: keep the two copies identical.

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

# Print the provider names, one a line.
_llm_providers_names()
{
	local files=()

	mapfile -t files < <(_llm_config_files "$1")
	((${#files[@]})) || return 0
	awk '
	/^[ \t]*\[[^]]+\]/ {
		s = $0
		sub(/^[ \t]*\[/, "", s)
		sub(/\].*/, "", s)
		if (s !~ /^provider\./)
			next
		n = substr(s, 10)
		if (n !~ /^[-A-Za-z0-9._:@+]+$/)
			next
		if (!seen[n]++)
			print n
	}' "${files[@]}" 2>/dev/null
}

# Print the tags of the [model.NAME] sections, one a line.
_llm_providers_tags()
{
	local files=()

	mapfile -t files < <(_llm_config_files "$1")
	((${#files[@]})) || return 0
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
				print t[i]
		}
	}' "${files[@]}" 2>/dev/null
}

_llm_providers()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev='' pfx='' opt config='' i
	local dashdash='' after='' word names=()
	local opts='-h --help -q --quiet -V --version -v --verbose --check
	    --config --discover --json --models --tag --timeout --'

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

	# an earlier --config FILE replaces $LLM_CONFIG; after "--" every
	# word is a provider
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		--)
			dashdash=1
			break
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

	if [[ -z $dashdash ]]; then
		case $prev in
		--config)
			compopt -o filenames 2>/dev/null
			mapfile -t COMPREPLY < <(compgen -f -- "$cur")
			if [[ -n $pfx ]]; then
				for i in "${!COMPREPLY[@]}"; do
					COMPREPLY[i]=$pfx${COMPREPLY[i]}
				done
			fi
			return 0
			;;
		--tag)
			_llm_filter "$cur" "$pfx" < <(_llm_providers_tags "$config")
			return 0
			;;
		--timeout)
			return 0
			;;
		esac
		# the value of another --opt=value
		[[ -n $pfx ]] && return 0

		if [[ $cur == -* ]]; then
			for opt in $opts; do
				[[ $opt == "$cur"* ]] && COMPREPLY+=("$opt")
			done
			return 0
		fi
	fi

	# provider names, but not those already given
	for ((i = 1; i < COMP_CWORD; i++)); do
		word=${COMP_WORDS[i]}
		if [[ -z $after ]]; then
			case $word in
			--)
				after=1
				continue
				;;
			--config | --tag | --timeout)
				# the value, and the "=" that bash may split off
				[[ ${COMP_WORDS[i + 1]} == = ]] && ((i++))
				((i++))
				continue
				;;
			-*)
				continue
				;;
			esac
		fi
		names+=("$word")
	done
	_llm_filter "$cur" '' < <(_llm_providers_names "$config")
	for i in "${!COMPREPLY[@]}"; do
		for word in "${names[@]}"; do
			if [[ ${COMPREPLY[i]} == "$word" ]]; then
				unset 'COMPREPLY[i]'
				break
			fi
		done
	done
	COMPREPLY=("${COMPREPLY[@]}")
	return 0
}

complete -F _llm_providers llm-providers
