"""Widgets of the app's own: the offline grid map and photo thumbnails."""
