# A Flask application from Debian's python3-flask, wrapped in wsgiref.validate;
# any WSGIWarning is turned into an error, so a server fault gives a 500.
import warnings
from wsgiref.validate import WSGIWarning, validator

from flask import Flask, jsonify, request

warnings.simplefilter('error', WSGIWarning)

app = Flask(__name__)


@app.route('/')
def index():
    return 'Hello from Flask'


@app.route('/json', methods=['POST'])
def echo_json():
    return jsonify(received=request.get_json(), args=request.args)


@app.route('/form', methods=['POST'])
def form():
    return jsonify(form=request.form, files={k: len(v.read()) for k, v in request.files.items()})


@app.route('/stream')
def stream():
    def gen():
        for i in range(5):
            yield 'line %d\n' % i
    return app.response_class(gen(), mimetype='text/plain')


application = validator(app)
