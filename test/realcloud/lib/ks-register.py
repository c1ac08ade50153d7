"""Idempotent Keystone registration in one process (an `openstack` CLI call costs ~2 s).

Arguments, applied in order:
  role=NAME                               a role
  domain=NAME                             a domain
  project=NAME[@DOMAIN]                   a project
  user=NAME[@DOMAIN]:PASSWORD_ENV:PROJECT:ROLE[,ROLE...]
                                          a user (password from the named env variable,
                                          reset each run) with roles on PROJECT
  domainrole=USER@DOMAIN:ROLE             a role for a user on a domain
  service=NAME:TYPE:URL                   a service and its public/internal/admin endpoints
Admin credentials come from OS_AUTH_URL / OS_PASSWORD (user admin, project admin).
"""

import os
import sys

from keystoneauth1 import session
from keystoneauth1.identity import v3
from keystoneclient.v3 import client

REGION = "RegionOne"


def main(argv):
    auth = v3.Password(
        auth_url=os.environ["OS_AUTH_URL"],
        username="admin",
        password=os.environ["OS_PASSWORD"],
        project_name="admin",
        user_domain_id="default",
        project_domain_id="default",
    )
    ks = client.Client(session=session.Session(auth=auth))

    def domain(name):
        found = ks.domains.list(name=name)
        return found[0] if found else ks.domains.create(name=name)

    def role(name):
        found = ks.roles.list(name=name)
        return found[0] if found else ks.roles.create(name=name)

    def split_domain(spec):
        name, _, dom = spec.partition("@")
        return name, domain(dom or "Default")

    def project(spec):
        name, dom = split_domain(spec)
        found = ks.projects.list(name=name, domain=dom)
        return found[0] if found else ks.projects.create(name=name, domain=dom)

    def user(spec):
        name, dom = split_domain(spec)
        found = ks.users.list(name=name, domain=dom)
        return found[0] if found else None

    for arg in argv:
        kind, _, value = arg.partition("=")
        if kind == "role":
            role(value)
        elif kind == "domain":
            domain(value)
        elif kind == "project":
            project(value)
        elif kind == "user":
            spec, pw_env, proj, roles = value.split(":")
            password = os.environ[pw_env]
            name, dom = split_domain(spec)
            u = user(spec)
            if u is None:
                u = ks.users.create(name=name, domain=dom, password=password)
            else:
                ks.users.update(u, password=password)
            if proj:
                p = project(proj)
                for r in roles.split(","):
                    ks.roles.grant(role(r), user=u, project=p)
        elif kind == "domainrole":
            spec, r = value.split(":")
            u = user(spec)
            ks.roles.grant(role(r), user=u, domain=split_domain(spec)[1])
        elif kind == "service":
            name, stype, url = value.split(":", 2)
            found = [s for s in ks.services.list(type=stype) if s.name == name]
            svc = found[0] if found else ks.services.create(name=name, type=stype)
            existing = {e.interface: e for e in ks.endpoints.list(service=svc)}
            for iface in ("public", "internal", "admin"):
                if iface in existing:
                    if existing[iface].url != url:
                        ks.endpoints.update(existing[iface], url=url)
                else:
                    ks.endpoints.create(service=svc, url=url, interface=iface, region=REGION)
        else:
            sys.exit(f"unknown argument {arg!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
