# make install / uninstall / deb / test-deploy (included by the Makefile).
# An installation: responders, worker and tools in $(PREFIX)/lib/switchboard, migrations
# and the static trees in $(PREFIX)/share/switchboard, configuration in /etc/switchboard,
# units in $(UNITDIR), switchboard-ctl in $(PREFIX)/sbin. DESTDIR stages it (packages).
PREFIX     ?= /usr/local
DESTDIR    ?=
CONFDIR    ?= /etc/switchboard
UNITDIR    ?= $(PREFIX)/lib/systemd/system
SB_LIBDIR  := $(PREFIX)/lib/switchboard
SB_DATADIR := $(PREFIX)/share/switchboard
SB_DOCDIR  := $(PREFIX)/share/doc/switchboard
SB_RUNDIR  := /run/switchboard
# nginx limits written into the snippets (the dev stack's defaults; edit the conffile).
NGINX_API_RATE   ?= 100r/s
NGINX_API_BURST  ?= 200
NGINX_AUTH_RATE  ?= 5r/s
NGINX_AUTH_BURST ?= 10
NGINX_MAX_BODY   ?= 1m
NGINX_IMPORT_MAX_BODY ?= 11m
# Export files: written by the worker and the transfer group, served by nginx.
SB_TRANSFERDIR   := /var/lib/switchboard/transfer
# Static trees under www/ (the console, ...) besides the API docs.
WWW_TREES  := $(notdir $(wildcard www/*))
SNIPPETS   := $(filter-out nginx/nginx.conf.in,$(wildcard nginx/*.conf))
D := $(DESTDIR)

# The dev stack's paths map onto the installation's: its var/www copies onto DATADIR/www,
# its var/run sockets onto /run/switchboard (snippets written for the stack work as is).
RENDER = sed -e 's|@VAR@/www|$(SB_DATADIR)/www|g' -e 's|@ROOT@/www|$(SB_DATADIR)/www|g' \
  -e 's|@VAR@/run/|$(SB_RUNDIR)/|g' -e 's|@CONFDIR@|$(CONFDIR)|g' -e 's|@LIBDIR@|$(SB_LIBDIR)|g' -e 's|@DATADIR@|$(SB_DATADIR)|g' \
  -e 's|@DOCDIR@|$(SB_DOCDIR)|g' -e 's|@CONF@|$(CONFDIR)/nginx|g' -e 's|@WWW@|$(SB_DATADIR)/www|g' \
  -e 's|@API_RATE@|$(NGINX_API_RATE)|g' -e 's|@API_BURST@|$(NGINX_API_BURST)|g' \
  -e 's|@AUTH_RATE@|$(NGINX_AUTH_RATE)|g' -e 's|@AUTH_BURST@|$(NGINX_AUTH_BURST)|g' \
  -e 's|@MAX_BODY@|$(NGINX_MAX_BODY)|g' -e 's|@IMPORT_MAX_BODY@|$(NGINX_IMPORT_MAX_BODY)|g' \
  -e 's|@TRANSFER_DIR@|$(SB_TRANSFERDIR)|g' \
  -e 's|@WANTS@|$(GROUPS:%=switchboard@%.service) switchboard-worker.service switchboard-relay.service|g' \
  -e '/@HARDENING@/{r packaging/systemd/hardening.inc' -e 'd}'

install: all
	install -d $(D)$(SB_LIBDIR) $(D)$(SB_DATADIR)/sql $(D)$(SB_DATADIR)/www/docs $(D)$(SB_DOCDIR) \
	  $(D)$(PREFIX)/sbin $(D)$(PREFIX)/share/man/man8 $(D)$(UNITDIR) $(D)$(CONFDIR)/nginx
	install -m 0755 $(GROUPS:%=$(BUILD)/bin/%) $(BUILD)/bin/worker $(BUILD)/bin/relay $(TOOLS) \
	  scripts/sql-migrate scripts/add-key $(D)$(SB_LIBDIR)/
	$(RENDER) packaging/make-env >$(D)$(SB_LIBDIR)/make-env && chmod 0755 $(D)$(SB_LIBDIR)/make-env
	$(RENDER) scripts/switchboard-ctl >$(D)$(PREFIX)/sbin/switchboard-ctl && chmod 0755 $(D)$(PREFIX)/sbin/switchboard-ctl
	install -m 0644 packaging/switchboard-ctl.8 $(D)$(PREFIX)/share/man/man8/
	install -m 0644 sql/*.sql $(D)$(SB_DATADIR)/sql/
	printf '%s\n' $(GROUPS) >$(D)$(SB_DATADIR)/groups
	@# The API docs: Swagger UI and our description, as scripts/stack publishes them.
	cp -R node_modules/swagger-ui-dist/. $(D)$(SB_DATADIR)/www/docs/
	rm -f $(D)$(SB_DATADIR)/www/docs/*.map $(D)$(SB_DATADIR)/www/docs/package.json $(D)$(SB_DATADIR)/www/docs/README.md
	install -m 0644 docs/swagger/index.html docs/swagger/swagger-initializer.js docs/openapi.yaml \
	  $(BUILD)/openapi.json $(D)$(SB_DATADIR)/www/docs/
	$(foreach t,$(WWW_TREES),rm -rf $(D)$(SB_DATADIR)/www/$(t) && cp -R www/$(t) $(D)$(SB_DATADIR)/www/$(t);)
	chmod -R u=rwX,go=rX $(D)$(SB_DATADIR)/www
	install -m 0644 docs/deploy.md $(D)$(SB_DOCDIR)/deploy.md
	for u in switchboard@.service switchboard-worker.service switchboard-relay.service switchboard.target; do \
	  $(RENDER) packaging/systemd/$$u.in >$(D)$(UNITDIR)/$$u && chmod 0644 $(D)$(UNITDIR)/$$u; done
	@# Configuration (conffiles in the package). The env file holds secrets: made once,
	@# never staged into a DESTDIR (the package's postinst makes it on the host).
	install -m 0644 config/providers.json $(D)$(CONFDIR)/providers.json
	for f in $(SNIPPETS); do $(RENDER) $$f >$(D)$(CONFDIR)/nginx/$$(basename $$f); done
	printf 'upstream sb_%s { server unix:$(SB_RUNDIR)/%s.sock; }\n' $(foreach g,$(GROUPS) relay,$(g) $(g)) \
	  >$(D)$(CONFDIR)/nginx/upstreams.conf
	chmod 0644 $(D)$(CONFDIR)/nginx/*.conf
	@! grep -n '@[A-Z][A-Z_]*@' $(D)$(CONFDIR)/nginx/*.conf $(D)$(UNITDIR)/switchboard* $(D)$(PREFIX)/sbin/switchboard-ctl \
	  || { echo "install: placeholders left unrendered (above)"; exit 1; }
	@if [ -z "$(DESTDIR)" ] && [ ! -e $(CONFDIR)/switchboard.env ]; then \
	  getent group switchboard >/dev/null || useradd --system --user-group --home-dir /nonexistent \
	    --no-create-home --shell /usr/sbin/nologin --comment Switchboard switchboard; \
	  install -d -o switchboard -g www-data -m 0750 $(dir $(SB_TRANSFERDIR)) && \
	  install -d -o switchboard -g www-data -m 2750 $(SB_TRANSFERDIR) && \
	  $(SB_LIBDIR)/make-env $(CONFDIR)/switchboard.env && \
	  echo "install: made $(CONFDIR)/switchboard.env: set DATABASE_URL, then switchboard-ctl migrate"; fi

uninstall:
	rm -rf $(D)$(SB_LIBDIR) $(D)$(SB_DATADIR) $(D)$(SB_DOCDIR) $(D)$(PREFIX)/sbin/switchboard-ctl \
	  $(D)$(PREFIX)/share/man/man8/switchboard-ctl.8
	rm -f $(D)$(UNITDIR)/switchboard@.service $(D)$(UNITDIR)/switchboard-worker.service \
	  $(D)$(UNITDIR)/switchboard-relay.service $(D)$(UNITDIR)/switchboard.target
	@echo "uninstall: kept $(CONFDIR) (settings and secrets) and the switchboard user"

# The package, built by dpkg-buildpackage from a copy of the tree (debian/ is
# packaging/debian there), so the checkout gets no debian/ directory or build litter.
DEB_VERSION := $(shell dpkg-parsechangelog -l packaging/debian/changelog -S Version 2>/dev/null)
DEB_STAGE   := build-deb
deb:
	rm -rf $(DEB_STAGE) && mkdir -p $(DEB_STAGE)/src
	git ls-files -co --exclude-standard -z | grep -zv '^node_modules' | xargs -0 cp --parents -t $(DEB_STAGE)/src
	mkdir -p $(DEB_STAGE)/src/node_modules && cp -R node_modules/swagger-ui-dist $(DEB_STAGE)/src/node_modules/
	cp -R packaging/debian $(DEB_STAGE)/src/debian
	cd $(DEB_STAGE)/src && DEB_BUILD_OPTIONS="parallel=2 nocheck" dpkg-buildpackage -b -us -uc >../build.log 2>&1 || \
	  { tail -n 40 ../build.log; exit 1; }
	@ls $(DEB_STAGE)/switchboard_$(DEB_VERSION)_amd64.deb

test-deploy:
	scripts/test-deploy
