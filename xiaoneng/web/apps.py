from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "xiaoneng.web"
    label = "web"
