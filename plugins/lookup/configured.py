# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: configured
short_description: A plugin option's value from ansible.cfg or the environment, else a default of yours
version_added: 0.2.0
description:
  - Returns the value that C(ansible.cfg) or an environment variable gives an option of a plugin (for example the
    C(pipelining) option of the C(ssh) connection plugin), or O(otherwise) when neither sets it.
  - Variables are not consulted. That is the point. A role default for C(ansible_pipelining) set from this lookup
    (see the examples) then behaves the way a default should. Inventory, play and extra variables win over a role
    default by Ansible's own variable precedence. C(ansible.cfg) and the environment, which any variable would
    override, win because this lookup returns their value.
  - The P(sshdoctor.connreset.diagnose#role) role uses it to turn pipelining on by default.
author:
  - sshdoctor.connreset contributors (@sshdoctor)
options:
  _terms:
    description: The option's name, as the plugin documents it (C(pipelining)).
    required: true
    type: list
    elements: str
  plugin_type:
    description: The kind of plugin.
    type: str
    default: connection
  plugin_name:
    description:
      - The plugin (C(ssh), C(paramiko_ssh), C(local), or a collection's plugin by its full name).
      - V(smart) is taken as V(ssh). A plugin that cannot be loaded, or has no such option, gives O(otherwise).
    type: str
    default: ssh
  otherwise:
    description: The value to return when neither C(ansible.cfg) nor the environment sets the option.
    type: raw
    required: true
"""

EXAMPLES = r"""
# In a role's defaults/main.yml: pipelining on, unless the inventory, the play, -e, ansible.cfg or
# ANSIBLE_PIPELINING says otherwise.
# ansible_pipelining: "{{ lookup('sshdoctor.connreset.configured', 'pipelining', plugin_name='ssh', otherwise=true) }}"

- name: Show what ansible.cfg or the environment says of the ssh plugin's pipelining (or "not set")
  ansible.builtin.debug:
    msg: "{{ lookup('sshdoctor.connreset.configured', 'pipelining', plugin_name='ssh', otherwise='not set') }}"
"""

RETURN = r"""
_raw:
  description: One value per term, the configured one or O(otherwise).
  type: list
  elements: raw
"""

import ansible.plugins.loader as plugin_loader
from ansible import constants as C
from ansible.errors import AnsibleError
from ansible.plugins.lookup import LookupBase

ALIASES = {"smart": "ssh"}


def configured(option, plugin_type, plugin_name, otherwise):
    """(value, origin) from ansible.cfg or the environment; (otherwise, None) when neither sets it."""
    plugin_name = ALIASES.get(plugin_name, plugin_name)
    loader = getattr(plugin_loader, "%s_loader" % plugin_type, None)
    # Loading the plugin registers its options with the configuration manager.
    if loader is None or loader.get(plugin_name, class_only=True) is None:
        return otherwise, None
    try:
        value, origin = C.config.get_config_value_and_origin(option, plugin_type=plugin_type, plugin_name=plugin_name)
    except AnsibleError:
        return otherwise, None
    if origin in (None, "default"):
        return otherwise, None
    return value, origin


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        return [configured(term, self.get_option("plugin_type"), self.get_option("plugin_name"), self.get_option("otherwise"))[0]
                for term in terms]
