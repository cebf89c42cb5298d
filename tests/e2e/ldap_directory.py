"""A throwaway OpenLDAP directory for the directory sign-in tests: Debian's slapd with a
slapd.conf under $SB_VAR/ldap, loaded with slapadd, serving LDAPS on 127.0.0.1 with the
stack's dev CA's server certificate (the one the local MQTT broker uses). scripts/test-e2e
exports the port and the SB_LDAP_* settings the auth responder starts with."""

import os
import shutil
import socket
import subprocess
import time

SUFFIX = "dc=switchboard,dc=test"
PEOPLE = "ou=people," + SUFFIX
GROUPS = "ou=groups," + SUFFIX
ADMINS = "cn=sb-admins," + GROUPS
READERS = "cn=sb-readers," + GROUPS
ADMIN_DN = "cn=admin," + SUFFIX
ADMIN_PASSWORD = "directory-admin-pw"
# A uid made of the filter's special characters: it must sign in as itself, and only.
ODD_UID = "odd*)(uid"

USERS = {
    # uid: (password, mail, groups)
    "ann": ("ann-directory-pw", "ann@ldap.test", [ADMINS]),
    "ben": ("ben-directory-pw", "ben@ldap.test", [READERS]),
    "carl": ("carl-directory-pw", "carl@ldap.test", []),
    # Her mail is also a password account's (registered by the test first): never merged.
    "dora": ("dora-directory-pw", "dora-ldap@example.com", [ADMINS]),
    # Her mail is also what a fake provider's account verifies: "Sign in with" it must not
    # reach the directory account (whose groups narrow it).
    "gina": ("gina-directory-pw", "ldapgina@example.com", [READERS]),
    ODD_UID: ("odd-directory-pw", "odd@ldap.test", [READERS]),
}


def _ldif():
    out = [f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: switchboard\no: Switchboard test\n",
           f"dn: {PEOPLE}\nobjectClass: organizationalUnit\nou: people\n",
           f"dn: {GROUPS}\nobjectClass: organizationalUnit\nou: groups\n"]
    for uid, (pw, mail, _) in USERS.items():
        entry = (f"dn: uid={uid},{PEOPLE}\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {uid.title()} Directory\n"
                 f"sn: Directory\ndisplayName: {uid.title()} Directory\nuserPassword: {pw}\n")
        if mail:
            entry += f"mail: {mail}\n"
        out.append(entry)
    for group in (ADMINS, READERS):
        members = [f"uid={u},{PEOPLE}" for u, (_, _, gs) in USERS.items() if group in gs]
        cn = group.split(",")[0][3:]
        out.append(f"dn: {group}\nobjectClass: groupOfNames\ncn: {cn}\n" + "".join(f"member: {m}\n" for m in members))
    return "\n".join(out)


def _conf(d, certs):
    return f"""include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
pidfile {d}/slapd.pid
argsfile {d}/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
TLSCACertificateFile {certs}/ca.crt
TLSCertificateFile {certs}/server.crt
TLSCertificateKeyFile {certs}/server.key
database mdb
maxsize 16777216
suffix "{SUFFIX}"
rootdn "cn=admin,{SUFFIX}"
rootpw {ADMIN_PASSWORD}
directory {d}/data
access to attrs=userPassword by anonymous auth by * none
access to * by * read
"""


class Directory:
    def __init__(self):
        var = os.environ["SB_VAR"]
        self.dir = os.path.join(var, "ldap")
        self.port = int(os.environ["SB_LDAP_TEST_PORT"])
        self.ca_file = os.environ["SB_LDAP_CA_FILE"]
        self.stack_ca = os.path.join(var, "mosquitto", "ca.crt")
        self.untrusted = os.path.join(var, "mosquitto", "untrusted.crt")
        self.proc = None

    def start(self, plain_port=None, server_cert=None):
        """Serves LDAPS on SB_LDAP_TEST_PORT and, with plain_port, ldap:// (StartTLS
        offered) there too. server_cert: (cert, key) paths instead of the broker's."""
        # Loaded once per stack: a restart keeps the entries (and their entryUUIDs, which
        # the accounts are linked to).
        loaded = os.path.join(self.dir, "loaded")
        if not os.path.exists(loaded):
            shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(os.path.join(self.dir, "data"), exist_ok=True)
        certs = os.path.join(self.dir, "certs")
        os.makedirs(certs, exist_ok=True)
        mq = os.path.dirname(self.stack_ca)
        for f in ("ca.crt", "server.crt", "server.key"):
            shutil.copy(os.path.join(mq, f), certs)
        if server_cert:
            shutil.copy(server_cert[0], os.path.join(certs, "server.crt"))
            shutil.copy(server_cert[1], os.path.join(certs, "server.key"))
        conf = os.path.join(self.dir, "slapd.conf")
        with open(conf, "w") as f:
            f.write(_conf(self.dir, certs))
        ldif = os.path.join(self.dir, "data.ldif")
        with open(ldif, "w") as f:
            f.write(_ldif())
        if not os.path.exists(loaded):
            subprocess.run(["slapadd", "-f", conf, "-l", ldif], check=True, capture_output=True, timeout=60)
            open(loaded, "w").close()
        self.trust(self.stack_ca)
        log = open(os.path.join(self.dir, "slapd.log"), "ab")
        # -d 0: stay in the foreground (the fixture owns the process); LDAPS on loopback only.
        urls = f"ldaps://127.0.0.1:{self.port}/" + (f" ldap://127.0.0.1:{plain_port}/" if plain_port else "")
        self.proc = subprocess.Popen(["slapd", "-f", conf, "-h", urls, "-d", "0"],
                                     stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        self._wait_port()
        return self

    def _wait_port(self):
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"slapd exited {self.proc.returncode}; see {self.dir}/slapd.log")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"slapd did not listen on 127.0.0.1:{self.port}; see {self.dir}/slapd.log")

    def cert_for(self, host, out_dir):
        """A server certificate of the stack's dev CA for host only: (cert, key) paths."""
        mq = os.path.dirname(self.stack_ca)
        key, csr, crt, ext = (os.path.join(out_dir, n) for n in ("other.key", "other.csr", "other.crt", "san.ext"))
        with open(ext, "w") as f:
            f.write(f"subjectAltName=DNS:{host}\n")
        run = dict(check=True, capture_output=True, timeout=60)
        subprocess.run(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={host}", "-keyout", key,
                        "-out", csr], **run)
        subprocess.run(["openssl", "x509", "-req", "-in", csr, "-CA", self.stack_ca, "-CAkey",
                        os.path.join(mq, "ca.key"), "-CAcreateserial", "-CAserial", os.path.join(out_dir, "ca.srl"),
                        "-days", "2", "-extfile", ext, "-out", crt], **run)
        return crt, key

    def trust(self, ca_path):
        """Makes the responder's SB_LDAP_CA_FILE hold this CA (read at each sign-in)."""
        tmp = self.ca_file + ".tmp"
        shutil.copy(ca_path, tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, self.ca_file)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None
