"""Read-only representations. Views prepare the querysets (select/prefetch), so no
serializer here issues a query of its own per row."""
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from xiaoneng.calendar.models import DayKind
from xiaoneng.clocks.explain import deadline_label
from xiaoneng.clocks.models import Clock, ClockExtension, ClockPause
from xiaoneng.complaints import masking
from xiaoneng.complaints.duplicates import duplicate_number, merged_into_number
from xiaoneng.orgs.models import Organ, Post, PostTarget, Region, Staff, Unit


class RegionRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Region
        fields = ["code", "name", "level"]


class RegionSerializer(serializers.ModelSerializer):
    level_display = serializers.CharField(source="get_level_display")
    parent = RegionRefSerializer(allow_null=True)

    class Meta:
        model = Region
        fields = ["code", "prefix", "name", "level", "level_display", "parent"]


class OrganRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organ
        fields = ["id", "name"]


class OrganSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display")
    region = RegionRefSerializer()

    class Meta:
        model = Organ
        fields = ["id", "credit_code", "name", "short_name", "kind", "kind_display", "region", "region_code", "is_active"]


class UnitSerializer(serializers.ModelSerializer):
    class Meta:
        model = Unit
        fields = ["id", "name", "parent_id"]


class PostTargetSerializer(serializers.ModelSerializer):
    text = serializers.CharField(source="__str__")

    class Meta:
        model = PostTarget
        fields = ["indicator", "comparator", "value", "measure", "text"]


class StaffRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Staff
        fields = ["id", "name"]


class PostSerializer(serializers.ModelSerializer):
    unit = serializers.CharField(source="unit.name", allow_null=True, default=None)
    targets = PostTargetSerializer(many=True)
    holders = StaffRefSerializer(many=True)

    class Meta:
        model = Post
        fields = ["id", "title", "unit", "duties", "targets", "holders"]


class OrganDetailSerializer(OrganSerializer):
    parent = serializers.SerializerMethodField(help_text="上级机关（仅当在您的范围内）/ parent organ, if in your scope")
    units = UnitSerializer(many=True)
    posts = PostSerializer(many=True)
    staff_count = serializers.IntegerField(help_text="在职人员数 / active staff")

    class Meta(OrganSerializer.Meta):
        fields = [*OrganSerializer.Meta.fields, "parent", "units", "posts", "staff_count"]

    @extend_schema_field(OrganRefSerializer(allow_null=True))
    def get_parent(self, organ):
        parent = self.context.get("visible_parent")
        return OrganRefSerializer(parent).data if parent else None


class UnitRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Unit
        fields = ["id", "name"]


class StaffSerializer(serializers.ModelSerializer):
    organ = OrganRefSerializer()
    unit = UnitRefSerializer(allow_null=True)
    posts = serializers.SlugRelatedField(slug_field="title", many=True, read_only=True)

    class Meta:
        model = Staff
        fields = ["id", "name", "staff_no", "rank", "organ", "unit", "posts", "is_active"]


class ClockSerializer(serializers.ModelSerializer):
    organ = OrganRefSerializer(allow_null=True)
    state_display = serializers.CharField(source="get_state_display")
    unit_display = serializers.CharField(source="get_unit_display")
    subject_type = serializers.SerializerMethodField()
    is_overdue = serializers.BooleanField(source="overdue_now", help_text="现在是否超期（已停止的按停止时间）/ overdue now (stopped: at stop)")
    due_label = serializers.SerializerMethodField(
        help_text="到期时间的法定表述，如 2026-11-25 24:00（due_at 为次日 00:00）；暂停中为 null / the deadline as "
                  "the law writes it, e.g. 2026-11-25 24:00 (due_at is 00:00 of the next day); null while paused")

    class Meta:
        model = Clock
        fields = [
            "id", "kind", "label", "subject_type", "subject_id", "organ", "region_code",
            "start_at", "limit", "unit", "unit_display", "extension_days", "legal_basis",
            "state", "state_display", "stopped_at", "warn_at", "due_at", "due_label", "is_overdue", "provisional",
        ]

    @extend_schema_field(OpenApiTypes.STR)
    def get_due_label(self, clock):
        return deadline_label(clock.due_at) or None

    @extend_schema_field(OpenApiTypes.STR)
    def get_subject_type(self, clock):
        ct = clock.subject_type
        return f"{ct.app_label}.{ct.model}" if ct else None


class ClockPauseSerializer(serializers.ModelSerializer):
    class Meta:
        model = ClockPause
        fields = ["started_at", "ended_at", "reason", "legal_basis", "announced_days"]


class ClockExtensionSerializer(serializers.ModelSerializer):
    class Meta:
        model = ClockExtension
        fields = ["days", "reason", "approver_name", "at"]


class ClockDetailSerializer(ClockSerializer):
    pauses = ClockPauseSerializer(many=True)
    extensions = ClockExtensionSerializer(many=True)
    explanation = serializers.SerializerMethodField()

    class Meta(ClockSerializer.Meta):
        fields = [*ClockSerializer.Meta.fields, "pauses", "extensions", "explanation"]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_explanation(self, clock):
        return self.context.get("explanation")


class CalendarDaySerializer(serializers.Serializer):
    """A day of the working-day calendar; `provisional` when its year is not loaded."""

    date = serializers.DateField()
    weekday = serializers.IntegerField(help_text="1 星期一 Monday … 7 星期日 Sunday")
    is_working = serializers.BooleanField()
    kind = serializers.ChoiceField(choices=DayKind.choices)
    kind_display = serializers.CharField()
    name = serializers.CharField(allow_blank=True)
    source = serializers.CharField(allow_blank=True)
    provisional = serializers.BooleanField(help_text="年度尚未载入官方日历，按法定节假日和周末规则推算 / year not loaded: statutory holidays and the weekend rule")


class DeadlinePauseSerializer(serializers.Serializer):
    first = serializers.DateField()
    last = serializers.DateField()


class DeadlineSerializer(serializers.Serializer):
    start_date = serializers.DateField()
    unit = serializers.CharField()
    limit = serializers.IntegerField()
    extension = serializers.IntegerField()
    due_date = serializers.DateField()
    due_at = serializers.DateTimeField(help_text="到期时刻（该日 24:00）/ end of the due day, ISO 8601 with offset")
    due_label = serializers.CharField(help_text="到期时间的法定表述，如 2026-11-25 24:00 / the deadline as the law writes it")
    warn_date = serializers.DateField(allow_null=True)
    working_days_counted = serializers.IntegerField()
    calendar_days = serializers.IntegerField()
    provisional = serializers.BooleanField()
    pauses = DeadlinePauseSerializer(many=True)
    explanation = serializers.CharField()


# --- complaints (no identity: the masked name or 匿名 only) ----------------------------------
# Free texts as the reader may read them (xiaoneng.complaints.masking): as written for a reader with
# the identity right for the complaint (the view annotates `texts_visible`), else their masked copies.
TEXT_HELP = "写入时按投诉人身份脱敏，有权查看投诉人者见原文 / masked with the complainant's identity unless the reader may see it"


class ComplaintSerializer(serializers.Serializer):
    """A complaint without its complainant: `complainant` is 匿名 or the masked name."""

    id = serializers.IntegerField()
    number = serializers.CharField()
    channel = serializers.CharField()
    channel_display = serializers.CharField(source="get_channel_display")
    source_ref = serializers.CharField()
    category = serializers.CharField(source="category.code")
    category_name = serializers.CharField(source="category.name")
    title = serializers.SerializerMethodField(help_text=TEXT_HELP)
    region_code = serializers.CharField()
    named_organ = serializers.CharField()
    organ = OrganRefSerializer(allow_null=True)
    anonymous = serializers.BooleanField()
    complainant = serializers.CharField(source="complainant_label", help_text="匿名或脱敏姓名 / 匿名 or masked name")
    status = serializers.CharField()
    status_display = serializers.CharField(source="get_status_display")
    result = serializers.CharField()
    satisfaction = serializers.IntegerField(allow_null=True)
    received_at = serializers.DateTimeField()
    accepted_at = serializers.DateTimeField(allow_null=True)
    routed_at = serializers.DateTimeField(allow_null=True)
    replied_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    acceptance_due_at = serializers.DateTimeField(source="acceptance_clock.due_at", allow_null=True, default=None)
    handling_due_at = serializers.DateTimeField(source="handling_clock.due_at", allow_null=True, default=None)
    is_possible_duplicate = serializers.SerializerMethodField()
    possible_duplicate = serializers.SerializerMethodField(
        help_text="the flagged complaint's number, where the reader may see that complaint")

    def get_title(self, complaint) -> str:
        return masking.shown(complaint, "title")

    def get_is_possible_duplicate(self, complaint) -> bool:
        return bool(complaint.possible_duplicate_id)

    def get_possible_duplicate(self, complaint) -> str | None:
        return duplicate_number(complaint)


class ComplaintStepSerializer(serializers.Serializer):
    kind = serializers.CharField()
    kind_display = serializers.CharField(source="get_kind_display")
    at = serializers.DateTimeField()
    from_status = serializers.CharField()
    to_status = serializers.CharField()
    organ = OrganRefSerializer(allow_null=True)
    actor = serializers.CharField(source="actor_label")
    text = serializers.SerializerMethodField(help_text=TEXT_HELP)

    def get_text(self, step) -> str:
        return masking.step_text(step, self.context.get("full_texts", False))


class ComplaintDetailSerializer(ComplaintSerializer):
    content = serializers.SerializerMethodField(help_text=TEXT_HELP)
    handling_report = serializers.SerializerMethodField(help_text=TEXT_HELP)
    reply = serializers.SerializerMethodField(help_text=TEXT_HELP)
    reasons = serializers.SerializerMethodField(help_text=TEXT_HELP)
    merged_into = serializers.SerializerMethodField(
        help_text="the number of the complaint this one was merged into, where the reader may see that complaint")
    steps = serializers.SerializerMethodField()

    def to_representation(self, complaint):
        if not getattr(complaint, "texts_visible", False):
            masking.ensure_masked(complaint, complaint.steps.all())  # texts recorded before masking, once
        return super().to_representation(complaint)

    def get_content(self, complaint) -> str:
        return masking.shown(complaint, "content")

    def get_handling_report(self, complaint) -> str:
        return masking.shown(complaint, "handling_report")

    def get_reply(self, complaint) -> str:
        return masking.shown(complaint, "reply")

    def get_reasons(self, complaint) -> str:
        return masking.shown(complaint, "reasons")

    @extend_schema_field(ComplaintStepSerializer(many=True))
    def get_steps(self, complaint):
        full = getattr(complaint, "texts_visible", False)
        return ComplaintStepSerializer(complaint.steps.all(), many=True, context={**self.context, "full_texts": full}).data

    def get_merged_into(self, complaint) -> str | None:
        return merged_into_number(complaint)
