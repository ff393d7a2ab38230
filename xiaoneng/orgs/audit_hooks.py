"""Which organisation records are audited and how they are scoped."""
from xiaoneng.audit.log import track

from .access import register_scope
from .models import Grant, Organ, Post, PostTarget, Region, Staff, Unit, User

for model in (Region, Organ, Unit, Post, PostTarget, Staff, Grant):
    track(model)
track(User, exclude=("password", "last_login"))

register_scope(Region, region="prefix")
register_scope(Organ, region="region_code", organ_path="path")
for model in (Unit, Post, Staff):
    register_scope(model, region="organ__region_code", organ_path="organ__path")
