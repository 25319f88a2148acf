// The gate page's camera button: read a QR code with the browser's BarcodeDetector and check
// it, as a USB scanner or typing does. Without BarcodeDetector (or a camera) the button stays
// hidden and the page works as it does without this script.
(function () {
  "use strict";
  function start() {
    var button = document.getElementById("camera");
    var video = document.getElementById("camera-view");
    var input = document.getElementById("code");
    if (!button || !video || !input || !("BarcodeDetector" in window) || !navigator.mediaDevices) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
      navigator.mediaDevices
        .getUserMedia({ video: { facingMode: "environment" }, audio: false })
        .then(function (stream) {
          video.srcObject = stream;
          video.hidden = false;
          return video.play().then(function () {
            scan(detector, video, stream, input);
          });
        })
        .catch(function () {
          button.hidden = true;
        });
    });
  }
  function stop(video, stream) {
    stream.getTracks().forEach(function (track) {
      track.stop();
    });
    video.hidden = true;
  }
  function scan(detector, video, stream, input) {
    detector
      .detect(video)
      .then(function (found) {
        if (found.length && found[0].rawValue) {
          stop(video, stream);
          input.value = found[0].rawValue;
          input.form.submit();
        } else {
          window.requestAnimationFrame(function () {
            scan(detector, video, stream, input);
          });
        }
      })
      .catch(function () {
        stop(video, stream);
      });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
