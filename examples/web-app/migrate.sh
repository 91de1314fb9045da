#!/bin/sh
# The migrate service: brings the database to the schema the app expects and renders the static
# site from it, once, before the app starts. It must be safe to run again on the same files: a
# restarted container (docker restart) keeps them, and runs every service again.
set -eu

db=/var/lib/app/db
www=/srv/www
target=3

mkdir -p "${db%/*}" "$www"
current=0
if [ -f "$db" ]; then
	current=$(sed -n 's/^schema=//p' "$db")
fi
if [ "$current" -ge "$target" ]; then
	echo "database already at schema $current"
else
	v=$current
	while [ "$v" -lt "$target" ]; do
		v=$((v + 1))
		echo "applying migration $v of $target"
		sleep 0.2 # stands for the real work, so that the order of the services shows
	done
	# Written aside and renamed, so that no reader ever sees half a database.
	printf 'schema=%s\nmigrated_at=%s\n' "$target" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$db.tmp"
	mv "$db.tmp" "$db"
	echo "database migrated to schema $target"
fi

migrated_at=$(sed -n 's/^migrated_at=//p' "$db")
cat >"$www/index.html.tmp" <<HTML
<!doctype html>
<title>uno web-app example</title>
<h1>Hello from uno</h1>
<p>Database schema $target, migrated at $migrated_at by the migrate service.</p>
<p><a href="/cgi-bin/api">/cgi-bin/api</a> asks the app service for its status.</p>
HTML
mv "$www/index.html.tmp" "$www/index.html"
echo "rendered $www/index.html"
