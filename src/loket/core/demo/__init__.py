"""The demo institutions: Bank Nusantara and Asuransi Sejahtera, with generated customers.

`DemoCore` implements CorePort in memory; `loket.core.demo.api.build_core_router` serves it over
HTTP. The API module is not imported here, so using the demo data needs no web framework.
"""

from __future__ import annotations

from loket.core.demo.generator import DEFAULT_SEED, DemoData, generate_demo_data
from loket.core.demo.institution import DemoCore, StepUpClosed, UnknownTenant, normalise_phone
from loket.core.demo.tenants import DEMO_TENANTS, DemoPhoneNumber, DemoTenant, SocialAccount, demo_tenant

__all__ = [
    "DEFAULT_SEED",
    "DEMO_TENANTS",
    "DemoCore",
    "DemoData",
    "DemoPhoneNumber",
    "DemoTenant",
    "SocialAccount",
    "StepUpClosed",
    "UnknownTenant",
    "demo_tenant",
    "generate_demo_data",
    "normalise_phone",
]
